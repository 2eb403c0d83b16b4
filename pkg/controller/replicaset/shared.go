package replicaset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// ClaimActions are how Claim changes ownership of one kind of object.
type ClaimActions[T metav1.Object] struct {
	// CanAdopt re-reads the owner from the API (not the cache) and fails
	// if it is gone, replaced or being deleted. Called at most once.
	CanAdopt func(ctx context.Context) error
	// Patch applies a strategic merge patch to obj.
	Patch func(ctx context.Context, obj T, patch []byte) error
}

// Claim returns the objects owner controls after reconciling ownership:
// orphans matching selector are adopted (controller ownerReference with
// blockOwnerDeletion), owned objects that stopped matching are released,
// objects controlled by someone else are left alone. An owner being
// deleted neither adopts nor releases.
func Claim[T metav1.Object](ctx context.Context, owner metav1.Object, ownerKind metav1.TypeMeta, selector labels.Selector,
	objs []T, act ClaimActions[T]) ([]T, error) {
	var claimed []T
	var errs []error
	var adoptChecked bool
	var adoptErr error
	for _, obj := range objs {
		ref := metav1.GetControllerOfNoCopy(obj)
		matches := selector.Matches(labels.Set(obj.GetLabels()))
		switch {
		case ref != nil && ref.UID != owner.GetUID():
			continue
		case ref != nil && matches:
			claimed = append(claimed, obj)
		case ref != nil:
			if owner.GetDeletionTimestamp() != nil {
				continue
			}
			err := act.Patch(ctx, obj, releasePatch(owner.GetUID(), obj.GetUID()))
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsInvalid(err) {
				errs = append(errs, fmt.Errorf("release %s: %w", obj.GetName(), err))
			}
		case matches && owner.GetDeletionTimestamp() == nil && obj.GetDeletionTimestamp() == nil:
			if !adoptChecked {
				adoptChecked, adoptErr = true, act.CanAdopt(ctx)
			}
			if adoptErr != nil {
				continue
			}
			err := act.Patch(ctx, obj, adoptPatch(owner, ownerKind, obj.GetUID()))
			switch {
			case apierrors.IsNotFound(err):
			case err != nil:
				errs = append(errs, fmt.Errorf("adopt %s: %w", obj.GetName(), err))
			default:
				claimed = append(claimed, obj)
			}
		}
	}
	if adoptErr != nil {
		errs = append(errs, fmt.Errorf("cannot adopt: %w", adoptErr))
	}
	return claimed, errors.Join(errs...)
}

// ControllerRef is the ownerReference a controller puts on what it owns.
func ControllerRef(owner metav1.Object, kind metav1.TypeMeta) metav1.OwnerReference {
	yes := true
	return metav1.OwnerReference{APIVersion: kind.APIVersion, Kind: kind.Kind, Name: owner.GetName(), UID: owner.GetUID(),
		Controller: &yes, BlockOwnerDeletion: &yes}
}

// patchMeta is a strategic merge patch of metadata; the uid makes the
// patch fail on an object recreated under the same name.
type patchMeta struct {
	Metadata struct {
		OwnerReferences []any     `json:"ownerReferences"`
		UID             types.UID `json:"uid"`
	} `json:"metadata"`
}

func adoptPatch(owner metav1.Object, kind metav1.TypeMeta, uid types.UID) []byte {
	var p patchMeta
	p.Metadata.OwnerReferences = []any{ControllerRef(owner, kind)}
	p.Metadata.UID = uid
	data, _ := json.Marshal(p) // plain structs always marshal
	return data
}

func releasePatch(ownerUID, uid types.UID) []byte {
	var p patchMeta
	p.Metadata.OwnerReferences = []any{map[string]any{"$patch": "delete", "uid": ownerUID}}
	p.Metadata.UID = uid
	data, _ := json.Marshal(p)
	return data
}

// IsPodReady reports whether the pod's Ready condition is True.
func IsPodReady(pod *corev1.Pod) bool {
	c := readyCondition(pod)
	return c != nil && c.Status == corev1.ConditionTrue
}

// IsPodAvailable reports whether the pod has been ready for at least
// minReadySeconds at now.
func IsPodAvailable(pod *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	c := readyCondition(pod)
	if c == nil || c.Status != corev1.ConditionTrue {
		return false
	}
	if minReadySeconds == 0 {
		return true
	}
	min := time.Duration(minReadySeconds) * time.Second
	return !c.LastTransitionTime.IsZero() && !c.LastTransitionTime.Add(min).After(now)
}

func readyCondition(pod *corev1.Pod) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.PodReady {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

// IsPodActive reports whether a pod counts toward its controller's
// replicas: not finished and not terminating.
func IsPodActive(pod *corev1.Pod) bool {
	return pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed && pod.DeletionTimestamp == nil
}
