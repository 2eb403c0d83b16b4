package disruption

import (
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func testPod(name string, owner types.UID, ready bool) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if owner != "" {
		yes := true
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: string(owner), UID: owner, Controller: &yes}}
	}
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}
	return p
}

// scales maps a ReplicaSet UID to the scale it resolves to (a Deployment
// for both "rs-a" and "rs-b").
func scales(pod *corev1.Pod) (scale, bool, error) {
	ref := metav1.GetControllerOfNoCopy(pod)
	switch ref.UID {
	case "rs-a", "rs-b":
		return scale{uid: "deploy", replicas: 4}, true, nil
	case "rs-c":
		return scale{uid: "rs-c", replicas: 2}, true, nil
	}
	return scale{}, false, errors.New("found no controllers")
}

func budgetWith(minAvailable, maxUnavailable *intstr.IntOrString) *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "b", Generation: 3},
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: minAvailable, MaxUnavailable: maxUnavailable},
	}
}

func intOrStr(s string) *intstr.IntOrString { v := intstr.Parse(s); return &v }

func TestExpectation(t *testing.T) {
	pods := []*corev1.Pod{
		testPod("a1", "rs-a", true), testPod("a2", "rs-a", true), testPod("b1", "rs-b", false),
		testPod("c1", "rs-c", true), testPod("bare", "", true),
	}
	for _, tc := range []struct {
		name              string
		pdb               *policyv1.PodDisruptionBudget
		expected, desired int32
		unmanaged         int
		wantErr           bool
	}{
		{"minAvailable int counts pods", budgetWith(intOrStr("2"), nil), 5, 2, 0, false},
		{"minAvailable percent of scale, rounded up", budgetWith(intOrStr("50%"), nil), 6, 3, 1, false},
		{"maxUnavailable int", budgetWith(nil, intOrStr("1")), 6, 5, 1, false},
		{"maxUnavailable percent, rounded up", budgetWith(nil, intOrStr("10%")), 6, 5, 1, false},
		{"maxUnavailable larger than scale", budgetWith(nil, intOrStr("9")), 6, 0, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := expect(tc.pdb, pods, scales)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if e.expected != tc.expected || e.desiredHealthy != tc.desired || len(e.unmanaged) != tc.unmanaged {
				t.Errorf("got expected=%d desired=%d unmanaged=%v; want %d %d %d", e.expected, e.desiredHealthy, e.unmanaged,
					tc.expected, tc.desired, tc.unmanaged)
			}
		})
	}
	orphanOwner := append(pods, testPod("x", "rs-gone", true))
	if _, err := expect(budgetWith(nil, intOrStr("1")), orphanOwner, scales); err == nil {
		t.Error("a pod whose controller cannot be found: no error")
	}
}

func TestDisruptedPodsExpireAndCountAsUnhealthy(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	pdb := budgetWith(intOrStr("1"), nil)
	pdb.Status.DisruptedPods = map[string]metav1.Time{
		"fresh":   metav1.NewTime(now.Add(-30 * time.Second)),
		"old":     metav1.NewTime(now.Add(-3 * time.Minute)),
		"deleted": metav1.NewTime(now.Add(-10 * time.Second)),
		"gone":    metav1.NewTime(now.Add(-10 * time.Second)),
	}
	terminating := testPod("deleted", "rs-c", true)
	terminating.DeletionTimestamp = &metav1.Time{Time: now}
	pods := []*corev1.Pod{testPod("fresh", "rs-c", true), testPod("old", "rs-c", true), terminating, testPod("other", "rs-c", true)}

	live, expired, recheck := liveDisruptions(pdb, pods, now)
	if len(live) != 1 || live["fresh"].Time.IsZero() {
		t.Errorf("live = %v, want only fresh", live)
	}
	if len(expired) != 1 || expired[0].Name != "old" {
		t.Errorf("expired = %v, want old", expired)
	}
	if want := now.Add(90 * time.Second); !recheck.Equal(want) {
		t.Errorf("recheck = %v, want %v", recheck, want)
	}
	if got := countHealthy(pods, live); got != 2 { // old and other; fresh is being evicted, deleted terminates
		t.Errorf("healthy = %d, want 2", got)
	}
}

func TestCalculateStatus(t *testing.T) {
	pdb := budgetWith(intOrStr("2"), nil)
	s := calculateStatus(pdb, expectation{expected: 3, desiredHealthy: 2}, 3, nil)
	if s.DisruptionsAllowed != 1 || s.ObservedGeneration != 3 || s.CurrentHealthy != 3 || s.DesiredHealthy != 2 || s.ExpectedPods != 3 {
		t.Errorf("status %+v", s)
	}
	c := apimeta.FindStatusCondition(s.Conditions, policyv1.DisruptionAllowedCondition)
	if c == nil || c.Status != metav1.ConditionTrue || c.Reason != policyv1.SufficientPodsReason {
		t.Errorf("condition %+v", c)
	}
	pdb.Status = s
	s = calculateStatus(pdb, expectation{expected: 3, desiredHealthy: 2}, 1, nil)
	c = apimeta.FindStatusCondition(s.Conditions, policyv1.DisruptionAllowedCondition)
	if s.DisruptionsAllowed != 0 || c.Status != metav1.ConditionFalse || c.Reason != policyv1.InsufficientPodsReason {
		t.Errorf("insufficient: %+v %+v", s, c)
	}
	// A budget expecting no pods allows nothing, even with minAvailable 0.
	if s := calculateStatus(pdb, expectation{}, 0, nil); s.DisruptionsAllowed != 0 {
		t.Errorf("empty budget allows %d", s.DisruptionsAllowed)
	}
}
