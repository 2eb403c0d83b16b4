package scheduler

import (
	"math"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// pdb guards the pods of namespace default that carry lbls and allows
// that many more disruptions; disrupted names pods an eviction counted.
func pdb(name string, lbls map[string]string, allowed int32, disrupted ...string) *policyv1.PodDisruptionBudget {
	b := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec:       policyv1.PodDisruptionBudgetSpec{Selector: metaSelector(lbls)},
		Status:     policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: allowed},
	}
	if len(disrupted) > 0 {
		b.Status.DisruptedPods = map[string]metav1.Time{}
		for _, p := range disrupted {
			b.Status.DisruptedPods[p] = metav1.Now()
		}
	}
	return b
}

func names(pods []*PodInfo) []string {
	out := []string{}
	for _, p := range pods {
		out = append(out, p.Pod.Name)
	}
	return out
}

// mustPreempt returns the preemption plan for p under pdbs, failing the
// test when there is none.
func mustPreempt(t *testing.T, w *world, p *corev1.Pod, pdbs ...*policyv1.PodDisruptionBudget) *preemptionPlan {
	t.Helper()
	plan, msg := preemptIn(t, w, p, pdbs...)
	if plan == nil {
		t.Fatalf("no preemption plan: %s", msg)
	}
	return plan
}

func TestSplitByBudget(t *testing.T) {
	web := map[string]string{"app": "web"}
	db := map[string]string{"app": "db"}
	info := func(name, ns string, l map[string]string) *PodInfo {
		p := withLabels(pod(name, "", ""), l)
		p.Namespace = ns
		return newPodInfo(p, 0)
	}
	pods := []*PodInfo{
		info("web-1", "default", web), info("web-2", "default", web), info("web-3", "default", web),
		info("db-1", "default", db), info("db-2", "default", db),
		info("web-other", "other", web), info("plain", "default", nil),
	}
	everything := pdb("all", nil, 0)
	everything.Spec.Selector = &metav1.LabelSelector{}
	b := newBudgets([]*policyv1.PodDisruptionBudget{
		pdb("web", web, 1),       // the first web pod uses the one disruption
		pdb("db", db, 0, "db-1"), // db-1 was counted by an eviction already
		everything,               // an empty selector guards nothing
		pdb("broken", nil, 0),    // neither does a missing one
		pdb("wide", map[string]string{"app": "web"}, 5), // a second budget that allows plenty
	})
	violating, rest := b.splitByBudget(pods)
	if got, want := names(violating), []string{"web-2", "web-3", "db-2"}; !slices.Equal(got, want) {
		t.Errorf("violating %v, want %v", got, want)
	}
	if got, want := names(rest), []string{"web-1", "db-1", "web-other", "plain"}; !slices.Equal(got, want) {
		t.Errorf("not violating %v, want %v", got, want)
	}
	var none *budgets
	if v, r := none.splitByBudget(pods); len(v) != 0 || len(r) != len(pods) {
		t.Errorf("no budgets: %d violating, %d not", len(v), len(r))
	}
}

func TestPreemptionReprievesBudgetProtectedPod(t *testing.T) {
	guarded := map[string]string{"app": "guarded"}
	w := newWorld(t, []*corev1.Node{node("n1", "2", "8Gi", 10, nil)}, []*corev1.Pod{
		on(withPriority(withLabels(pod("guarded", "1", ""), guarded), 1), "n1"),
		on(withPriority(pod("free", "1", ""), 5), "n1"),
	})
	urgent := withPriority(pod("urgent", "1", ""), 100)

	plan := mustPreempt(t, w, urgent)
	if plan.node != "n1" || !slices.Equal(names(plan.victims), []string{"guarded"}) {
		t.Fatalf("without budgets: %s %v, want n1 [guarded] (lowest priority goes)", plan.node, names(plan.victims))
	}
	plan = mustPreempt(t, w, urgent, pdb("keep", guarded, 0))
	if plan.node != "n1" || !slices.Equal(names(plan.victims), []string{"free"}) || plan.cost.violations != 0 {
		t.Fatalf("with budget: %s %v (%d violations), want n1 [free] and none", plan.node, names(plan.victims), plan.cost.violations)
	}
}

func TestPreemptionPrefersNodeWithoutBudgetViolation(t *testing.T) {
	guarded := map[string]string{"app": "guarded"}
	nodes := []*corev1.Node{node("n1", "1", "8Gi", 10, nil), node("n2", "1", "8Gi", 10, nil)}
	pods := []*corev1.Pod{
		on(withPriority(withLabels(pod("cheap-but-guarded", "1", ""), guarded), 1), "n1"),
		on(withPriority(pod("dearer", "1", ""), 50), "n2"),
	}
	w := newWorld(t, nodes, pods)
	urgent := withPriority(pod("urgent", "1", ""), 100)

	if plan := mustPreempt(t, w, urgent); plan.node != "n1" {
		t.Fatalf("without budgets: %s %v, want n1", plan.node, names(plan.victims))
	}
	plan := mustPreempt(t, w, urgent, pdb("keep", guarded, 0))
	if plan.node != "n2" || !slices.Equal(names(plan.victims), []string{"dearer"}) {
		t.Fatalf("with budget: %s %v, want n2 [dearer]", plan.node, names(plan.victims))
	}
	// A budget that still allows a disruption, or that already counted the
	// pod, is not violated.
	for _, b := range []*policyv1.PodDisruptionBudget{pdb("room", guarded, 1), pdb("counted", guarded, 0, "cheap-but-guarded")} {
		if plan := mustPreempt(t, w, urgent, b); plan.node != "n1" {
			t.Errorf("budget %s: %s %v, want n1", b.Name, plan.node, names(plan.victims))
		}
	}
}

func TestPreemptionViolatesBudgetWhenEveryNodeDoes(t *testing.T) {
	guarded := map[string]string{"app": "guarded"}
	nodes := []*corev1.Node{node("n1", "1", "8Gi", 10, nil), node("n2", "2", "8Gi", 10, nil)}
	pods := []*corev1.Pod{
		on(withPriority(withLabels(pod("g1", "1", ""), guarded), 20), "n1"),
		on(withPriority(withLabels(pod("g2", "1", ""), guarded), 10), "n2"),
		on(withPriority(withLabels(pod("g3", "1", ""), guarded), 10), "n2"),
	}
	w := newWorld(t, nodes, pods)
	plan := mustPreempt(t, w, withPriority(pod("urgent", "1", ""), 100), pdb("keep", guarded, 0))
	// Both nodes need one violation; n2's victim has the lower priority.
	if plan.node != "n2" || len(plan.victims) != 1 || plan.cost.violations != 1 {
		t.Fatalf("%s %v (%d violations), want one victim on n2 with one violation",
			plan.node, names(plan.victims), plan.cost.violations)
	}
}

func TestPlanCostOrder(t *testing.T) {
	now := time.Now()
	victim := func(prio int32, started time.Time) *PodInfo {
		p := pod("v", "", "")
		if !started.IsZero() {
			p.Status.StartTime = &metav1.Time{Time: started}
		}
		return newPodInfo(p, prio)
	}
	v := func(vs ...*PodInfo) []*PodInfo { return vs }
	cases := []struct {
		name            string
		cheaper, dearer planCost
	}{
		{"fewer violations beat lower priority", costOf(v(victim(50, now)), 0), costOf(v(victim(1, now)), 1)},
		{"lower highest priority", costOf(v(victim(1, now), victim(1, now)), 0), costOf(v(victim(2, now)), 0)},
		{"lower sum", costOf(v(victim(5, now), victim(-5, now)), 0), costOf(v(victim(5, now), victim(1, now)), 0)},
		{"fewer victims", costOf(v(victim(5, now)), 0), costOf(v(victim(5, now), victim(math.MinInt32, now)), 0)},
		{"highest-priority victim started later", costOf(v(victim(5, now)), 0), costOf(v(victim(5, now.Add(-time.Hour))), 0)},
		{"not started counts as latest", costOf(v(victim(5, time.Time{})), 0), costOf(v(victim(5, now)), 0)},
		{"earliest of the top victims counts", costOf(v(victim(5, now), victim(5, now.Add(-time.Minute))), 0),
			costOf(v(victim(5, now), victim(5, now.Add(-time.Hour))), 0)},
	}
	for _, tc := range cases {
		if !tc.cheaper.less(tc.dearer) || tc.dearer.less(tc.cheaper) {
			t.Errorf("%s: %+v should be cheaper than %+v", tc.name, tc.cheaper, tc.dearer)
		}
	}
}
