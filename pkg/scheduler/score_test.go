package scheduler

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestLeastAndMostAllocated(t *testing.T) {
	nodes := []*corev1.Node{node("busy", "4", "4Gi", 10, nil), node("idle", "4", "4Gi", 10, nil)}
	pods := []*corev1.Pod{on(pod("x", "3", "3Gi"), "busy")}
	if got := mustPlace(t, newWorld(t, nodes, pods), pod("p", "500m", "512Mi")); got != "idle" {
		t.Fatalf("spread placed on %s, want idle", got)
	}
	most := func(a *algorithm) { a.scorers[0] = &allocationScore{most: true} }
	if got := mustPlace(t, newWorld(t, nodes, pods, most), pod("p", "500m", "512Mi")); got != "busy" {
		t.Fatalf("binpack placed on %s, want busy", got)
	}
}

func TestPreferredNodeAffinityScore(t *testing.T) {
	w := newWorld(t, []*corev1.Node{node("a", "4", "4Gi", 10, nil), node("b", "4", "4Gi", 10, map[string]string{"disk": "ssd"})}, nil)
	p := pod("p", "", "")
	p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{
		Weight: 50, Preference: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "disk", Operator: corev1.NodeSelectorOpIn, Values: []string{"ssd"}}}}}}}}
	for i := 0; i < 10; i++ {
		if got := mustPlace(t, w, p); got != "b" {
			t.Fatalf("placed on %s, want b", got)
		}
	}
}

func TestPreferNoScheduleScore(t *testing.T) {
	soft := node("soft", "4", "4Gi", 10, nil)
	soft.Spec.Taints = []corev1.Taint{{Key: "k", Effect: corev1.TaintEffectPreferNoSchedule}}
	w := newWorld(t, []*corev1.Node{soft, node("clean", "4", "4Gi", 10, nil)}, nil)
	for i := 0; i < 10; i++ {
		if got := mustPlace(t, w, pod("p", "", "")); got != "clean" {
			t.Fatalf("placed on %s", got)
		}
	}
}

func TestOwnerSpreadScore(t *testing.T) {
	owned := func(name string) *corev1.Pod {
		p := pod(name, "", "")
		yes := true
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: "rs-uid", Controller: &yes}}
		return p
	}
	w := newWorld(t, []*corev1.Node{node("a", "4", "4Gi", 10, nil), node("b", "4", "4Gi", 10, nil)},
		[]*corev1.Pod{on(owned("r1"), "a"), on(pod("other", "", ""), "b")})
	if got := mustPlace(t, w, owned("r2")); got != "b" {
		t.Fatalf("placed on %s, want b (no sibling there)", got)
	}
}

func TestImageLocalityScore(t *testing.T) {
	with := node("with", "4", "4Gi", 10, nil)
	with.Status.Images = []corev1.ContainerImage{{Names: []string{"big:latest"}, SizeBytes: 900 * 1024 * 1024}}
	w := newWorld(t, []*corev1.Node{with, node("without", "4", "4Gi", 10, nil)}, nil)
	p := pod("p", "", "")
	p.Spec.Containers[0].Image = "big"
	if got := mustPlace(t, w, p); got != "with" {
		t.Fatalf("placed on %s", got)
	}
}

func TestSpreadAndPodAffinityScores(t *testing.T) {
	app := map[string]string{"app": "web"}
	w := newWorld(t, []*corev1.Node{node("a", "4", "4Gi", 10, nil), node("b", "4", "4Gi", 10, nil)},
		[]*corev1.Pod{on(withLabels(pod("w1", "", ""), app), "a")})
	p := withLabels(pod("w2", "", ""), app)
	p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{MaxSkew: 5, TopologyKey: "kubernetes.io/hostname",
		WhenUnsatisfiable: corev1.ScheduleAnyway, LabelSelector: &metav1.LabelSelector{MatchLabels: app}}}
	if got := mustPlace(t, w, p); got != "b" {
		t.Fatalf("spread score placed on %s", got)
	}
	q := pod("near", "", "")
	q.Spec.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
		Weight: 100, PodAffinityTerm: corev1.PodAffinityTerm{TopologyKey: "kubernetes.io/hostname", LabelSelector: &metav1.LabelSelector{MatchLabels: app}}}}}}
	if got := mustPlace(t, w, q); got != "a" {
		t.Fatalf("affinity score placed on %s", got)
	}
}

func TestQueueOrderAndBackoff(t *testing.T) {
	now := time.Unix(1000, 0)
	q := NewQueue(nil, time.Second, 10*time.Second, func() time.Time { return now })
	old := withPriority(pod("old", "", ""), 0)
	old.CreationTimestamp = metav1.NewTime(now.Add(-time.Hour))
	young := withPriority(pod("young", "", ""), 0)
	young.CreationTimestamp = metav1.NewTime(now)
	high := withPriority(pod("high", "", ""), 100)
	high.CreationTimestamp = metav1.NewTime(now)
	for _, p := range []*corev1.Pod{young, old, high} {
		q.Add(p)
	}
	ctx := t.Context()
	var order []string
	var popped []*queuedPod
	for i := 0; i < 3; i++ {
		qp, err := q.Pop(ctx)
		if err != nil {
			t.Fatal(err)
		}
		order = append(order, qp.pod.Name)
		popped = append(popped, qp)
	}
	if want := []string{"high", "old", "young"}; order[0] != want[0] || order[1] != want[1] || order[2] != want[2] {
		t.Fatalf("order %v, want %v", order, want)
	}
	// Failed attempts back off 1 s, 2 s, 4 s, 8 s, 10 s, 10 s.
	qp := popped[0]
	var got []time.Duration
	for i := 0; i < 6; i++ {
		q.bumpBackoff(qp)
		got = append(got, qp.backoffUntil.Sub(now))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("back-off %v, want %v", got, want)
		}
	}
	// A parked pod stays parked on a status-only update, wakes on a cluster
	// change once its back-off has passed.
	q2 := popped[1]
	q2.attempts = 0
	q.AddUnschedulable(q2)
	if a, b, u := q.Len(); a != 0 || b != 0 || u != 1 {
		t.Fatalf("after park: active %d backoff %d parked %d", a, b, u)
	}
	status := q2.pod.DeepCopy()
	status.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse}}
	q.Update(status)
	if _, _, u := q.Len(); u != 1 {
		t.Fatal("status update woke a parked pod")
	}
	q.MoveAllToActive()
	if _, b, _ := q.Len(); b != 1 {
		t.Fatal("woken pod should still back off")
	}
	now = now.Add(2 * time.Second)
	q.Flush()
	if a, _, _ := q.Len(); a != 1 {
		t.Fatal("pod not active after back-off")
	}
}

func TestQueueChangeDuringCycleSkipsParking(t *testing.T) {
	q := NewQueue(nil, time.Millisecond, time.Millisecond, nil)
	q.Add(pod("p", "", ""))
	qp, err := q.Pop(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	q.MoveAllToActive() // a node appeared while p was being scheduled
	q.AddUnschedulable(qp)
	if _, b, u := q.Len(); b != 1 || u != 0 {
		t.Fatalf("backoff %d parked %d, want the pod backing off, not parked", b, u)
	}
}
