package nodelifecycle

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func TestStalenessFollowsObservedHeartbeats(t *testing.T) {
	grace, startup := 40*time.Second, 60*time.Second
	h := observe(nil, t0.Add(-time.Hour), t0.Add(-time.Minute), t0.Add(-time.Minute), t0)
	if got := staleAfter(h, true, grace, startup); !got.Equal(t0.Add(grace)) {
		t.Fatalf("first sight: stale after %v, want a full grace period from now", got)
	}
	// No new heartbeat: the deadline stays.
	h = observe(&h, t0.Add(-time.Hour), t0.Add(-time.Minute), t0.Add(-time.Minute), t0.Add(30*time.Second))
	if got := staleAfter(h, true, grace, startup); !got.Equal(t0.Add(grace)) {
		t.Fatalf("no heartbeat: stale after %v, want %v", got, t0.Add(grace))
	}
	// A Lease renewal alone moves it, whatever the node's clock says.
	h = observe(&h, t0.Add(-time.Hour), t0.Add(-time.Minute), t0.Add(-50*time.Second), t0.Add(35*time.Second))
	if got := staleAfter(h, true, grace, startup); !got.Equal(t0.Add(75 * time.Second)) {
		t.Fatalf("after renewal: stale after %v, want %v", got, t0.Add(75*time.Second))
	}
	// A node that never reported counts from its creation, with the
	// startup grace period.
	h = observe(nil, t0.Add(-10*time.Second), time.Time{}, time.Time{}, t0)
	if got := staleAfter(h, false, grace, startup); !got.Equal(t0.Add(50 * time.Second)) {
		t.Fatalf("never reported: stale after %v, want %v", got, t0.Add(50*time.Second))
	}
}

func TestMarkUnknown(t *testing.T) {
	conds := []corev1.NodeCondition{
		{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: metav1.NewTime(t0.Add(-time.Minute))},
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionUnknown, Reason: "X", LastTransitionTime: metav1.NewTime(t0.Add(-time.Hour))},
		{Type: corev1.NodeNetworkUnavailable, Status: corev1.ConditionFalse},
	}
	out, changed := markUnknown(conds, t0.Add(-2*time.Hour), t0)
	if !changed {
		t.Fatal("not changed")
	}
	byType := map[corev1.NodeConditionType]corev1.NodeCondition{}
	for _, c := range out {
		byType[c.Type] = c
	}
	r := byType[corev1.NodeReady]
	if r.Status != corev1.ConditionUnknown || r.Reason != "NodeStatusUnknown" || r.Message != "Kubelet stopped posting node status." ||
		!r.LastTransitionTime.Time.Equal(t0) || !r.LastHeartbeatTime.Time.Equal(t0.Add(-time.Minute)) {
		t.Errorf("Ready = %+v", r)
	}
	if m := byType[corev1.NodeMemoryPressure]; m.Reason != "X" || !m.LastTransitionTime.Time.Equal(t0.Add(-time.Hour)) {
		t.Errorf("already Unknown condition rewritten: %+v", m)
	}
	if d := byType[corev1.NodeDiskPressure]; d.Status != corev1.ConditionUnknown || d.Reason != "NodeStatusNeverUpdated" {
		t.Errorf("missing DiskPressure = %+v", d)
	}
	if n := byType[corev1.NodeNetworkUnavailable]; n.Status != corev1.ConditionFalse {
		t.Errorf("NetworkUnavailable touched: %+v", n)
	}
	if conds[0].Status != corev1.ConditionTrue {
		t.Error("input modified")
	}
	if _, changed := markUnknown(out, t0, t0.Add(time.Second)); changed {
		t.Error("second marking changed something")
	}
}
