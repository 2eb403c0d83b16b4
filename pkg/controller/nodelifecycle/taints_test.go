package nodelifecycle

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func nodeWith(ready corev1.ConditionStatus, extra ...corev1.NodeCondition) *corev1.Node {
	n := &corev1.Node{}
	if ready != "" {
		n.Status.Conditions = append(n.Status.Conditions, corev1.NodeCondition{Type: corev1.NodeReady, Status: ready})
	}
	n.Status.Conditions = append(n.Status.Conditions, extra...)
	return n
}

func TestConditionTaints(t *testing.T) {
	cases := map[string]struct {
		node       *corev1.Node
		noSchedule []string
		noExecute  string
	}{
		"ready":     {nodeWith(corev1.ConditionTrue), nil, ""},
		"not ready": {nodeWith(corev1.ConditionFalse), []string{corev1.TaintNodeNotReady}, corev1.TaintNodeNotReady},
		"unknown":   {nodeWith(corev1.ConditionUnknown), []string{corev1.TaintNodeUnreachable}, corev1.TaintNodeUnreachable},
		"no ready":  {nodeWith(""), nil, ""},
		"pressure and network": {nodeWith(corev1.ConditionTrue,
			corev1.NodeCondition{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionTrue},
			corev1.NodeCondition{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse},
			corev1.NodeCondition{Type: corev1.NodePIDPressure, Status: corev1.ConditionTrue},
			corev1.NodeCondition{Type: corev1.NodeNetworkUnavailable, Status: corev1.ConditionTrue}),
			[]string{corev1.TaintNodeMemoryPressure, corev1.TaintNodePIDPressure, corev1.TaintNodeNetworkUnavailable}, ""},
	}
	for name, c := range cases {
		if diff := cmp.Diff(c.noSchedule, noScheduleTaints(c.node)); diff != "" {
			t.Errorf("%s: NoSchedule (-want +got):\n%s", name, diff)
		}
		if got := noExecuteTaint(c.node); got != c.noExecute {
			t.Errorf("%s: NoExecute %q, want %q", name, got, c.noExecute)
		}
	}
	cordoned := nodeWith(corev1.ConditionTrue)
	cordoned.Spec.Unschedulable = true
	if diff := cmp.Diff([]string{corev1.TaintNodeUnschedulable}, noScheduleTaints(cordoned)); diff != "" {
		t.Errorf("cordoned (-want +got):\n%s", diff)
	}
}

func TestWithTaintsKeepsForeignAndSwaps(t *testing.T) {
	old := metav1.NewTime(t0.Add(-time.Hour))
	now := t0
	in := []corev1.Taint{
		{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute, TimeAdded: &old},
		{Key: corev1.TaintNodeMemoryPressure, Effect: corev1.TaintEffectNoSchedule},
	}
	got := withTaints(in, []string{corev1.TaintNodeNotReady}, corev1.TaintNodeNotReady, now)
	nowT := metav1.NewTime(now)
	want := []corev1.Taint{
		{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute, TimeAdded: &nowT},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("swap (-want +got):\n%s", diff)
	}
	// Kept taints keep their time.
	got = withTaints(in[:3], []string{corev1.TaintNodeUnreachable}, corev1.TaintNodeUnreachable, now)
	if diff := cmp.Diff(in[:3], got); diff != "" {
		t.Errorf("unchanged (-want +got):\n%s", diff)
	}
	// Back to ready: only the foreign taint stays.
	got = withTaints(in, nil, "", now)
	if diff := cmp.Diff(in[:1], got); diff != "" {
		t.Errorf("recovered (-want +got):\n%s", diff)
	}
}
