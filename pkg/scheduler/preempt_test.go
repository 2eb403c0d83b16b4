package scheduler

import (
	"sort"
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
)

// preemptIn fails to place p, then looks for a preemption that respects
// pdbs.
func preemptIn(t *testing.T, w *world, p *corev1.Pod, pdbs ...*policyv1.PodDisruptionBudget) (*preemptionPlan, string) {
	t.Helper()
	pi := newPodInfo(p, podPriority(p))
	res := w.algo.schedule(pi)
	if res.node != "" {
		t.Fatalf("pod fits on %s without preemption", res.node)
	}
	w.snap.mu.RLock()
	defer w.snap.mu.RUnlock()
	return findPreemption(&cycle{pod: pi, snap: w.snap}, w.algo.filters, res.failures, newBudgets(pdbs))
}

func TestPreemptionMinimalVictims(t *testing.T) {
	nodes := []*corev1.Node{node("n1", "4", "8Gi", 10, nil), node("n2", "4", "8Gi", 10, nil)}
	pods := []*corev1.Pod{
		on(withPriority(pod("n1-low", "1", ""), 1), "n1"),
		on(withPriority(pod("n1-mid", "1", ""), 5), "n1"),
		on(withPriority(pod("n1-high", "2", ""), 1000), "n1"),
		on(withPriority(pod("n2-a", "2", ""), 10), "n2"),
		on(withPriority(pod("n2-b", "2", ""), 10), "n2"),
	}
	w := newWorld(t, nodes, pods)
	plan, msg := preemptIn(t, w, withPriority(pod("urgent", "1", ""), 100))
	if plan == nil {
		t.Fatalf("no plan: %s", msg)
	}
	var names []string
	for _, v := range plan.victims {
		names = append(names, v.Pod.Name)
	}
	sort.Strings(names)
	if plan.node != "n1" || len(names) != 1 || names[0] != "n1-low" {
		t.Fatalf("plan %s %v, want n1 [n1-low]", plan.node, names)
	}
}

func TestPreemptionNotPossible(t *testing.T) {
	tainted := node("t", "4", "8Gi", 10, nil)
	tainted.Spec.Taints = []corev1.Taint{{Key: "k", Value: "v", Effect: corev1.TaintEffectNoSchedule}}
	w := newWorld(t, []*corev1.Node{node("n1", "1", "8Gi", 10, nil), tainted},
		[]*corev1.Pod{on(withPriority(pod("big", "1", ""), 500), "n1")})
	plan, msg := preemptIn(t, w, withPriority(pod("p", "1", ""), 100))
	if plan != nil {
		t.Fatalf("unexpected plan on %s", plan.node)
	}
	want := "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling."
	if msg != want {
		t.Fatalf("got %q\nwant %q", msg, want)
	}
}

func TestPreemptionFreesAntiAffinityConflict(t *testing.T) {
	db := map[string]string{"app": "db"}
	w := newWorld(t, []*corev1.Node{node("n1", "4", "8Gi", 10, nil)},
		[]*corev1.Pod{on(withPriority(withLabels(pod("old-db", "", ""), db), 0), "n1")})
	p := withPriority(withLabels(pod("new-db", "", ""), db), 10)
	p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
		TopologyKey: "kubernetes.io/hostname", LabelSelector: metaSelector(db)}}}}
	plan, msg := preemptIn(t, w, p)
	if plan == nil || len(plan.victims) != 1 || plan.victims[0].Pod.Name != "old-db" {
		t.Fatalf("plan %+v (%s), want old-db evicted", plan, msg)
	}
}
