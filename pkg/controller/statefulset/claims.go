package statefulset

import (
	"context"
	"errors"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/pkg/controller"
)

// createClaims creates the missing claims of the pod with the given
// ordinal; a claim still being deleted makes the pod wait.
func (sc *Controller) createClaims(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod, ordinal int) error {
	var errs []error
	for _, claim := range newClaims(set, ordinal) {
		existing, err := sc.claims.PersistentVolumeClaims(set.Namespace).Get(claim.Name)
		if err == nil {
			if existing.DeletionTimestamp != nil {
				errs = append(errs, fmt.Errorf("claim %s is being deleted: %w", claim.Name, controller.ErrRequeue))
			}
			continue
		}
		if !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("get claim %s: %w", claim.Name, err))
			continue
		}
		claim.OwnerReferences = claimOwners(set, claim.OwnerReferences, nil, ordinal)
		_, err = sc.client.CoreV1().PersistentVolumeClaims(set.Namespace).Create(ctx, claim, metav1.CreateOptions{})
		switch {
		case err == nil:
			sc.events.Eventf(set, corev1.EventTypeNormal, "SuccessfulCreate", "create Claim %s Pod %s in StatefulSet %s success",
				claim.Name, pod.Name, set.Name)
		case apierrors.IsAlreadyExists(err):
		default:
			sc.events.Eventf(set, corev1.EventTypeWarning, "FailedCreate", "create Claim %s for Pod %s in StatefulSet %s failed error: %v",
				claim.Name, pod.Name, set.Name, err)
			errs = append(errs, fmt.Errorf("create claim %s: %w", claim.Name, err))
		}
	}
	return errors.Join(errs...)
}

// claimOwners returns refs with the retention policy's owners: the set
// when whenDeleted is Delete, and the pod (if given) when whenScaled is
// Delete and its ordinal is beyond the desired ones. Other owners stay.
func claimOwners(set *appsv1.StatefulSet, refs []metav1.OwnerReference, pod *corev1.Pod, ordinal int) []metav1.OwnerReference {
	policy := set.Spec.PersistentVolumeClaimRetentionPolicy
	whenDeleted, whenScaled := appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	if policy != nil {
		whenDeleted, whenScaled = policy.WhenDeleted, policy.WhenScaled
	}
	podName := PodName(set, ordinal)
	out := slices.DeleteFunc(slices.Clone(refs), func(r metav1.OwnerReference) bool {
		return r.UID == set.UID || (r.Kind == "Pod" && r.APIVersion == "v1" && r.Name == podName)
	})
	if whenDeleted == appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
		out = append(out, metav1.OwnerReference{APIVersion: kind.APIVersion, Kind: kind.Kind, Name: set.Name, UID: set.UID})
	}
	if pod != nil && whenScaled == appsv1.DeletePersistentVolumeClaimRetentionPolicyType && !inRange(set, ordinal) {
		out = append(out, metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID})
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// updateClaimOwners brings the owners of the pod's claims in line with
// the retention policy.
func (sc *Controller) updateClaimOwners(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod, ordinal int) error {
	var errs []error
	for _, t := range set.Spec.VolumeClaimTemplates {
		claim, err := sc.claims.PersistentVolumeClaims(set.Namespace).Get(ClaimName(t.Name, set, ordinal))
		if err != nil || claim.DeletionTimestamp != nil {
			continue
		}
		want := claimOwners(set, claim.OwnerReferences, pod, ordinal)
		if equality.Semantic.DeepEqual(want, claim.OwnerReferences) {
			continue
		}
		claim = claim.DeepCopy()
		claim.OwnerReferences = want
		_, err = sc.client.CoreV1().PersistentVolumeClaims(claim.Namespace).Update(ctx, claim, metav1.UpdateOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("update owners of claim %s: %w", claim.Name, err))
		}
	}
	return errors.Join(errs...)
}

// releaseClaimsOnScaleDown hands a condemned pod's claims to the pod
// (whenScaled Delete) before the pod goes, so they go with it.
func (sc *Controller) releaseClaimsOnScaleDown(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod, ordinal int) error {
	return sc.updateClaimOwners(ctx, set, pod, ordinal)
}

// syncClaimOwners applies the retention policy to the claims of every
// live pod of the set (the policy may change at any time).
func (sc *Controller) syncClaimOwners(ctx context.Context, set *appsv1.StatefulSet, pods []*corev1.Pod) error {
	if len(set.Spec.VolumeClaimTemplates) == 0 {
		return nil
	}
	var errs []error
	for _, p := range pods {
		ord := Ordinal(set, p)
		if ord < 0 || isTerminating(p) {
			continue
		}
		errs = append(errs, sc.updateClaimOwners(ctx, set, p, ord))
	}
	return errors.Join(errs...)
}
