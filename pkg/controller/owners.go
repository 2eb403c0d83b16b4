package controller

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// ResolveControllerRef returns the object a controller ownerReference
// names when it is of the given kind and still the same object (same
// UID); otherwise the zero T (nil for pointer types). get reads by name
// from a lister of the owner's namespace.
func ResolveControllerRef[T metav1.Object](ref *metav1.OwnerReference, kind string,
	get func(name string) (T, error)) T {
	var none T
	if ref == nil || ref.Kind != kind {
		return none
	}
	obj, err := get(ref.Name)
	if err != nil || obj.GetUID() != ref.UID {
		return none
	}
	return obj
}

// Selecting returns the objects among all whose label selector matches
// set; an empty or invalid selector matches nothing. An orphan is offered
// to these for adoption.
func Selecting[T any](all []T, selectorOf func(T) *metav1.LabelSelector, set map[string]string) []T {
	var out []T
	for _, obj := range all {
		sel, err := metav1.LabelSelectorAsSelector(selectorOf(obj))
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(set)) {
			out = append(out, obj)
		}
	}
	return out
}

// RecheckOwner checks a fresh read of a controller before it adopts: it
// must still be the same object (uid) and not being deleted. fresh and err
// are what the read returned.
func RecheckOwner(kind string, owner, fresh metav1.Object, err error) error {
	if err != nil {
		return err
	}
	if fresh.GetUID() != owner.GetUID() {
		return fmt.Errorf("original %s %s/%s is gone: got uid %s, wanted %s",
			kind, owner.GetNamespace(), owner.GetName(), fresh.GetUID(), owner.GetUID())
	}
	if ts := fresh.GetDeletionTimestamp(); ts != nil {
		return fmt.Errorf("%s/%s has just been deleted at %v", owner.GetNamespace(), owner.GetName(), ts)
	}
	return nil
}
