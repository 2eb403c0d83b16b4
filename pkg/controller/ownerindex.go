package controller

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// ControllerUIDIndex indexes objects by the UID of their controller
// (ownerReference with controller: true); objects without one are indexed
// under their namespace's orphan key. A workload controller then reads its
// own pods and the orphans it might adopt instead of every pod of the
// namespace: with many controllers in one namespace, a sync no longer
// costs all of the namespace's pods.
const ControllerUIDIndex = "tug.controllerUID"

func orphanKey(namespace string) string { return "orphan:" + namespace }

// AddControllerUIDIndex adds ControllerUIDIndex to a shared informer (once,
// whichever controller asks first); it must run before the informer
// starts.
func AddControllerUIDIndex(inf cache.SharedIndexInformer) error {
	if _, ok := inf.GetIndexer().GetIndexers()[ControllerUIDIndex]; ok {
		return nil
	}
	err := inf.AddIndexers(cache.Indexers{ControllerUIDIndex: func(obj any) ([]string, error) {
		m, err := meta.Accessor(obj)
		if err != nil {
			return nil, err
		}
		if ref := metav1.GetControllerOfNoCopy(m); ref != nil {
			return []string{string(ref.UID)}, nil
		}
		return []string{orphanKey(m.GetNamespace())}, nil
	}})
	if err != nil {
		return fmt.Errorf("add %s index: %w", ControllerUIDIndex, err)
	}
	return nil
}

// OwnedOrOrphaned returns the objects controlled by uid and the objects of
// namespace that have no controller: everything a controller may claim.
func OwnedOrOrphaned[T any](indexer cache.Indexer, namespace string, uid types.UID) ([]T, error) {
	var out []T
	for _, key := range []string{string(uid), orphanKey(namespace)} {
		objs, err := indexer.ByIndex(ControllerUIDIndex, key)
		if err != nil {
			return nil, fmt.Errorf("list by controller: %w", err)
		}
		for _, o := range objs {
			if t, ok := o.(T); ok {
				out = append(out, t)
			}
		}
	}
	return out, nil
}
