package disruption

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/tugcluster/tug/pkg/controller/disruption/budget"
	"github.com/tugcluster/tug/pkg/controller/replicaset"
)

// countsScale reports whether a budget's expectedPods is the scale of the
// pods' controllers (maxUnavailable, or minAvailable as a percentage)
// rather than the number of pods (minAvailable as an integer).
func countsScale(pdb *policyv1.PodDisruptionBudget) bool {
	return pdb.Spec.MaxUnavailable != nil || (pdb.Spec.MinAvailable != nil && pdb.Spec.MinAvailable.Type == intstr.String)
}

// expectation is how many pods a budget expects and wants healthy.
type expectation struct {
	expected, desiredHealthy int32
	// unmanaged names the selected pods without a controller; they do
	// not count towards a scale.
	unmanaged []string
}

// expect computes expectedPods and desiredHealthy of pdb over the pods it
// selects; scaleOf resolves a pod's controller.
func expect(pdb *policyv1.PodDisruptionBudget, pods []*corev1.Pod,
	scaleOf func(*corev1.Pod) (scale, bool, error)) (expectation, error) {
	var e expectation
	spec := pdb.Spec
	switch {
	case spec.MinAvailable != nil && spec.MinAvailable.Type == intstr.Int:
		e.expected = int32(len(pods))
		e.desiredHealthy = spec.MinAvailable.IntVal
	case spec.MaxUnavailable != nil, spec.MinAvailable != nil:
		var err error
		if e.expected, e.unmanaged, err = expectedScale(pods, scaleOf); err != nil {
			return e, err
		}
		if spec.MaxUnavailable != nil {
			maxUnavailable, err := intstr.GetScaledValueFromIntOrPercent(spec.MaxUnavailable, int(e.expected), true)
			if err != nil {
				return e, fmt.Errorf("maxUnavailable: %w", err)
			}
			e.desiredHealthy = max(0, e.expected-int32(maxUnavailable))
		} else {
			minAvailable, err := intstr.GetScaledValueFromIntOrPercent(spec.MinAvailable, int(e.expected), true)
			if err != nil {
				return e, fmt.Errorf("minAvailable: %w", err)
			}
			e.desiredHealthy = int32(minAvailable)
		}
	}
	return e, nil
}

// expectedScale sums the spec.replicas of the distinct controllers of
// pods (a Deployment counts once however many ReplicaSets its pods are
// in). Pods without a controller are returned apart.
func expectedScale(pods []*corev1.Pod, scaleOf func(*corev1.Pod) (scale, bool, error)) (int32, []string, error) {
	resolved := map[types.UID]bool{} // controller ownerReferences already looked at
	counted := map[types.UID]bool{}  // scales already added
	var total int32
	var unmanaged []string
	for _, pod := range pods {
		ref := metav1.GetControllerOfNoCopy(pod)
		if ref == nil {
			unmanaged = append(unmanaged, pod.Name)
			continue
		}
		if resolved[ref.UID] {
			continue
		}
		s, ok, err := scaleOf(pod)
		if err != nil {
			return 0, unmanaged, err
		}
		if !ok {
			unmanaged = append(unmanaged, pod.Name)
			continue
		}
		resolved[ref.UID] = true
		if !counted[s.uid] {
			counted[s.uid] = true
			total += s.replicas
		}
	}
	return total, unmanaged, nil
}

// liveDisruptions keeps the entries of status.disruptedPods that still
// stand at now: the pod exists, is not terminating, and the eviction is
// younger than budget.DeletionTimeout. expired lists the pods whose
// eviction did not lead to a deletion in time; recheck is when the next
// entry expires (zero when none is left).
func liveDisruptions(pdb *policyv1.PodDisruptionBudget, pods []*corev1.Pod, now time.Time) (
	live map[string]metav1.Time, expired []*corev1.Pod, recheck time.Time) {
	if len(pdb.Status.DisruptedPods) == 0 {
		return nil, nil, time.Time{}
	}
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil {
			continue
		}
		at, found := pdb.Status.DisruptedPods[pod.Name]
		if !found {
			continue
		}
		deadline := at.Add(budget.DeletionTimeout)
		if !deadline.After(now) {
			expired = append(expired, pod)
			continue
		}
		if live == nil {
			live = map[string]metav1.Time{}
		}
		live[pod.Name] = at
		if recheck.IsZero() || deadline.Before(recheck) {
			recheck = deadline
		}
	}
	return live, expired, recheck
}

// countHealthy counts the ready pods that are neither terminating nor
// about to be deleted by an eviction.
func countHealthy(pods []*corev1.Pod, disrupted map[string]metav1.Time) int32 {
	var n int32
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil {
			continue
		}
		if _, evicted := disrupted[pod.Name]; evicted {
			continue
		}
		if replicaset.IsPodReady(pod) {
			n++
		}
	}
	return n
}

// calculateStatus is the status of pdb given the counts. No disruption is
// allowed while the budget expects no pods, so that a budget whose first
// pods just appeared is safe before its status catches up.
func calculateStatus(pdb *policyv1.PodDisruptionBudget, e expectation, healthy int32,
	disrupted map[string]metav1.Time) policyv1.PodDisruptionBudgetStatus {
	allowed := healthy - e.desiredHealthy
	if e.expected <= 0 || allowed < 0 {
		allowed = 0
	}
	s := policyv1.PodDisruptionBudgetStatus{
		ObservedGeneration: pdb.Generation,
		DisruptedPods:      disrupted,
		DisruptionsAllowed: allowed,
		CurrentHealthy:     healthy,
		DesiredHealthy:     e.desiredHealthy,
		ExpectedPods:       e.expected,
		Conditions:         append([]metav1.Condition(nil), pdb.Status.Conditions...),
	}
	budget.SetDisruptionAllowed(&s)
	return s
}
