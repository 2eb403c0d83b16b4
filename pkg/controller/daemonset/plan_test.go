package daemonset

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func pod(name, hash string, ready bool) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{hashLabel: hash}}}
	p.Status.Phase = corev1.PodRunning
	if ready {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	}
	return p
}

func names(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func TestPlanNode(t *testing.T) {
	run := Placement{ShouldRun: true, ShouldContinueRunning: true}
	if p := planNode(run, nil, 0, "h", false); !p.create {
		t.Fatal("empty eligible node gets no pod")
	}
	if p := planNode(run, nil, 1, "h", false); p.create {
		t.Fatal("pod created while the old one terminates")
	}
	if p := planNode(Placement{}, []*corev1.Pod{pod("a", "h", true)}, 0, "h", false); len(p.remove) != 1 {
		t.Fatal("pod kept on a node that is no longer eligible")
	}
	if p := planNode(Placement{ShouldContinueRunning: true}, []*corev1.Pod{pod("a", "h", true)}, 0, "h", false); len(p.remove) != 0 || p.create {
		t.Fatal("pod removed from a node that only stopped accepting new pods")
	}
	failed := pod("f", "h", false)
	failed.Status.Phase = corev1.PodFailed
	if p := planNode(run, []*corev1.Pod{failed}, 0, "h", false); len(p.failed) != 1 || len(p.remove) != 1 || p.create {
		t.Fatalf("failed pod: %+v", p)
	}
	extra := planNode(run, []*corev1.Pod{pod("old", "x", true), pod("new", "h", true), pod("newer", "h", true)}, 0, "h", false)
	if diff := cmp.Diff([]string{"new", "newer"}, names(extra.remove)); diff != "" {
		t.Fatalf("duplicates without surge (-want +got):\n%s", diff)
	}
	surge := planNode(run, []*corev1.Pod{pod("old", "x", true), pod("new", "h", true), pod("newer", "h", true)}, 0, "h", true)
	if diff := cmp.Diff([]string{"newer"}, names(surge.remove)); diff != "" {
		t.Fatalf("duplicates with surge (-want +got):\n%s", diff)
	}
}

func isReady(p *corev1.Pod) bool {
	return len(p.Status.Conditions) > 0 && p.Status.Conditions[0].Status == corev1.ConditionTrue
}

func TestRollingPlanMaxUnavailable(t *testing.T) {
	nodes := map[string][]*corev1.Pod{
		"a": {pod("a-old", "x", true)},
		"b": {pod("b-old", "x", true)},
		"c": {pod("c-old", "x", false)},
		"d": {pod("d-new", "h", true)},
	}
	// c's old pod is unavailable: it goes at once and uses the budget of 1.
	remove, create := rollingPlan(nodes, "h", 0, 1, isReady)
	if diff := cmp.Diff([]string{"c-old"}, names(remove)); diff != "" || create != nil {
		t.Fatalf("remove (-want +got):\n%s create %v", diff, create)
	}
	remove, _ = rollingPlan(nodes, "h", 0, 2, isReady)
	if diff := cmp.Diff([]string{"c-old", "a-old"}, names(remove)); diff != "" {
		t.Fatalf("remove (-want +got):\n%s", diff)
	}
	// An updated pod that is not ready yet holds the budget.
	nodes["d"] = []*corev1.Pod{pod("d-new", "h", false)}
	delete(nodes, "c")
	if remove, _ := rollingPlan(nodes, "h", 0, 1, isReady); len(remove) != 0 {
		t.Fatalf("removed %v while an updated pod is unavailable", names(remove))
	}
}

func TestRollingPlanMaxSurge(t *testing.T) {
	nodes := map[string][]*corev1.Pod{
		"a": {pod("a-old", "x", true)},
		"b": {pod("b-old", "x", true)},
		"c": {pod("c-old", "x", true), pod("c-new", "h", true)},
		"d": {pod("d-old", "x", true), pod("d-new", "h", false)},
	}
	remove, create := rollingPlan(nodes, "h", 2, 0, isReady)
	if diff := cmp.Diff([]string{"c-old"}, names(remove)); diff != "" {
		t.Fatalf("remove (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a"}, create); diff != "" {
		t.Fatalf("create (-want +got):\n%s", diff)
	}
}
