package budget

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// DeletionTimeout is how long an entry of status.disruptedPods holds: an
// evicted pod that has not started terminating by then is counted again.
const DeletionTimeout = 2 * time.Minute

// MaxDisruptedPods caps status.disruptedPods: past it the eviction
// subresource refuses until the controller has caught up.
const MaxDisruptedPods = 2000

// Selector returns the pod selector of a budget. In policy/v1 an empty
// selector ({}) selects every pod of the namespace and a missing one
// selects none. ok is false for an invalid selector.
func Selector(pdb *policyv1.PodDisruptionBudget) (sel labels.Selector, ok bool) {
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if err != nil {
		return labels.Nothing(), false
	}
	return sel, true
}

// Guards reports whether the eviction subresource enforces pdb for pod.
// Unlike the controller, eviction ignores a budget whose selector is empty
// (or missing or invalid): such a budget guards nothing.
func Guards(pdb *policyv1.PodDisruptionBudget, pod *corev1.Pod) bool {
	sel, ok := Selector(pdb)
	return ok && pdb.Namespace == pod.Namespace && !sel.Empty() && sel.Matches(labels.Set(pod.Labels))
}

// SetDisruptionAllowed records the DisruptionAllowed condition that
// status.disruptionsAllowed implies: True/SufficientPods when positive,
// False/InsufficientPods otherwise.
func SetDisruptionAllowed(s *policyv1.PodDisruptionBudgetStatus) {
	c := metav1.Condition{
		Type:               policyv1.DisruptionAllowedCondition,
		Status:             metav1.ConditionFalse,
		Reason:             policyv1.InsufficientPodsReason,
		ObservedGeneration: s.ObservedGeneration,
	}
	if s.DisruptionsAllowed > 0 {
		c.Status, c.Reason = metav1.ConditionTrue, policyv1.SufficientPodsReason
	}
	if s.Conditions == nil {
		s.Conditions = []metav1.Condition{}
	}
	apimeta.SetStatusCondition(&s.Conditions, c)
}

// SetSyncFailed records that the status could not be computed: no
// disruption is allowed until it can be.
func SetSyncFailed(s *policyv1.PodDisruptionBudgetStatus, err error) {
	s.DisruptionsAllowed = 0
	if s.Conditions == nil {
		s.Conditions = []metav1.Condition{}
	}
	apimeta.SetStatusCondition(&s.Conditions, metav1.Condition{
		Type:               policyv1.DisruptionAllowedCondition,
		Status:             metav1.ConditionFalse,
		Reason:             policyv1.SyncFailedReason,
		Message:            err.Error(),
		ObservedGeneration: s.ObservedGeneration,
	})
}

// ConditionUpToDate reports whether pdb's DisruptionAllowed condition
// matches its current generation and disruptionsAllowed.
func ConditionUpToDate(pdb *policyv1.PodDisruptionBudget) bool {
	c := apimeta.FindStatusCondition(pdb.Status.Conditions, policyv1.DisruptionAllowedCondition)
	if c == nil || pdb.Status.ObservedGeneration != pdb.Generation {
		return false
	}
	if pdb.Status.DisruptionsAllowed > 0 {
		return c.Status == metav1.ConditionTrue && c.Reason == policyv1.SufficientPodsReason
	}
	return c.Status == metav1.ConditionFalse && c.Reason == policyv1.InsufficientPodsReason
}
