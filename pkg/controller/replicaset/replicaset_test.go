package replicaset

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestSlowStartBatch(t *testing.T) {
	var calls atomic.Int32
	n, err := slowStartBatch(10, 1, func() error { calls.Add(1); return nil })
	if n != 10 || err != nil || calls.Load() != 10 {
		t.Fatalf("all succeed: %d successes, %v, %d calls", n, err, calls.Load())
	}
	// Every call fails: batches of 1 then stop — one call, not ten.
	calls.Store(0)
	n, err = slowStartBatch(10, 1, func() error { calls.Add(1); return errors.New("quota") })
	if n != 0 || err == nil || calls.Load() != 1 {
		t.Fatalf("all fail: %d successes, %v, %d calls", n, err, calls.Load())
	}
	// The 4th call fails: batches 1, 2 succeed, the batch of 4 is cut short after.
	calls.Store(0)
	n, err = slowStartBatch(10, 1, func() error {
		if calls.Add(1) == 4 {
			return errors.New("boom")
		}
		return nil
	})
	if n != 6 || err == nil || calls.Load() != 7 {
		t.Fatalf("fourth fails: %d successes, %v, %d calls; want 6, error, 7", n, err, calls.Load())
	}
}

func pod(name string, mut func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(time.Unix(1000, 0))},
		Spec: corev1.PodSpec{NodeName: "n1"}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	setReady(p, time.Unix(1000, 0))
	if mut != nil {
		mut(p)
	}
	return p
}

func setReady(p *corev1.Pod, since time.Time) {
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(since)}}
}

func TestPodsToDeleteOrder(t *testing.T) {
	pods := []*corev1.Pod{
		pod("old-ready", nil),
		pod("new-ready", func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(time.Unix(2000, 0)) }),
		pod("recently-ready", func(p *corev1.Pod) { setReady(p, time.Unix(3000, 0)) }),
		pod("not-ready", func(p *corev1.Pod) { p.Status.Conditions = nil }),
		pod("pending", func(p *corev1.Pod) { p.Status.Phase = corev1.PodPending; p.Status.Conditions = nil }),
		pod("unscheduled", func(p *corev1.Pod) { p.Spec.NodeName = ""; p.Status.Phase = corev1.PodPending }),
		pod("cheap", func(p *corev1.Pod) { p.Annotations = map[string]string{deletionCostAnnotation: "-5"} }),
		pod("lonely", func(p *corev1.Pod) { p.Spec.NodeName = "n2" }),
	}
	var got []string
	for _, p := range podsToDelete(pods, len(pods)-1) {
		got = append(got, p.Name)
	}
	want := []string{"unscheduled", "pending", "not-ready", "cheap", "recently-ready", "new-ready", "old-ready"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deletion order (-want +got):\n%s", diff)
	}
}

func TestCalculateStatus(t *testing.T) {
	now := time.Unix(5000, 0)
	rs := &appsv1.ReplicaSet{Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](4), MinReadySeconds: 10,
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "a", "v": "1"}}}}}
	labeled := func(p *corev1.Pod) { p.Labels = map[string]string{"app": "a", "v": "1"} }
	pods := []*corev1.Pod{
		pod("available", labeled),
		pod("ready-too-recently", func(p *corev1.Pod) { labeled(p); setReady(p, now.Add(-5*time.Second)) }),
		pod("not-ready", func(p *corev1.Pod) { p.Status.Conditions = nil; p.Labels = map[string]string{"app": "a"} }),
	}
	s := calculateStatus(rs, pods, errors.New("quota exceeded"), now)
	if s.Replicas != 3 || s.FullyLabeledReplicas != 2 || s.ReadyReplicas != 2 || s.AvailableReplicas != 1 {
		t.Errorf("counts = %d/%d/%d/%d, want 3/2/2/1", s.Replicas, s.FullyLabeledReplicas, s.ReadyReplicas, s.AvailableReplicas)
	}
	if len(s.Conditions) != 1 || s.Conditions[0].Reason != "FailedCreate" || s.Conditions[0].Message != "quota exceeded" {
		t.Errorf("conditions = %+v, want one FailedCreate", s.Conditions)
	}
	rs.Status = s
	if s := calculateStatus(rs, pods, nil, now); len(s.Conditions) != 0 {
		t.Errorf("ReplicaFailure kept after success: %+v", s.Conditions)
	}
}
