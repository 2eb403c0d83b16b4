package daemonset

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func node(name string, labels map[string]string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Spec: corev1.NodeSpec{Taints: taints}}
}

func daemon(mutate func(*corev1.PodSpec)) *appsv1.DaemonSet {
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "ns"}}
	if mutate != nil {
		mutate(&ds.Spec.Template.Spec)
	}
	return ds
}

func TestNodePlacement(t *testing.T) {
	noSched := corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}
	noExec := corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoExecute}
	cases := []struct {
		name string
		node *corev1.Node
		ds   *appsv1.DaemonSet
		want Placement
	}{
		{"plain node", node("a", nil), daemon(nil), Placement{true, true}},
		{"selector matches", node("a", map[string]string{"disk": "ssd"}),
			daemon(func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"disk": "ssd"} }), Placement{true, true}},
		{"selector misses", node("a", nil),
			daemon(func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"disk": "ssd"} }), Placement{}},
		{"required affinity misses", node("a", map[string]string{"zone": "b"}), daemon(func(s *corev1.PodSpec) {
			s.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{
					{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}}}}}}}}
		}), Placement{}},
		{"template nodeName elsewhere", node("a", nil), daemon(func(s *corev1.PodSpec) { s.NodeName = "b" }), Placement{}},
		{"untolerated NoSchedule keeps running pods", node("a", nil, noSched), daemon(nil), Placement{false, true}},
		{"untolerated NoExecute evicts", node("a", nil, noExec), daemon(nil), Placement{false, false}},
		{"tolerated taint", node("a", nil, noSched), daemon(func(s *corev1.PodSpec) {
			s.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "db"}}
		}), Placement{true, true}},
		{"PreferNoSchedule ignored", node("a", nil, corev1.Taint{Key: "x", Effect: corev1.TaintEffectPreferNoSchedule}), daemon(nil), Placement{true, true}},
		{"not-ready node tolerated", node("a", nil, corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute}), daemon(nil), Placement{true, true}},
		{"unschedulable node tolerated", node("a", nil, corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}), daemon(nil), Placement{true, true}},
		{"network-unavailable only for hostNetwork", node("a", nil, corev1.Taint{Key: corev1.TaintNodeNetworkUnavailable, Effect: corev1.TaintEffectNoSchedule}), daemon(nil), Placement{false, true}},
		{"network-unavailable with hostNetwork", node("a", nil, corev1.Taint{Key: corev1.TaintNodeNetworkUnavailable, Effect: corev1.TaintEffectNoSchedule}),
			daemon(func(s *corev1.PodSpec) { s.HostNetwork = true }), Placement{true, true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := NodePlacement(c.node, c.ds); got != c.want {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestNewPodPinnedToNode(t *testing.T) {
	ds := daemon(func(s *corev1.PodSpec) {
		s.Containers = []corev1.Container{{Name: "c", Image: "i"}}
		s.Tolerations = []corev1.Toleration{{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists,
			Effect: corev1.TaintEffectNoExecute, TolerationSeconds: new(int64)}}
	})
	ds.Spec.Template.Labels = map[string]string{"app": "agent"}
	pod := newPod(ds, "abc", "node-1")
	if got := TargetNode(pod); got != "node-1" {
		t.Fatalf("target node %q, want node-1", got)
	}
	if pod.Spec.NodeName != "" {
		t.Fatalf("pod bound by the controller to %q; the scheduler binds", pod.Spec.NodeName)
	}
	if pod.Labels[hashLabel] != "abc" || pod.Labels["app"] != "agent" {
		t.Fatalf("labels %v", pod.Labels)
	}
	if ds.Spec.Template.Labels[hashLabel] != "" {
		t.Fatal("template labels modified")
	}
	notReady := 0
	for _, tol := range pod.Spec.Tolerations {
		if tol.Key == corev1.TaintNodeNotReady {
			notReady++
			if tol.TolerationSeconds != nil {
				t.Fatal("not-ready toleration keeps a time limit")
			}
		}
	}
	if notReady != 1 || len(pod.Spec.Tolerations) != 6 {
		t.Fatalf("tolerations %+v", pod.Spec.Tolerations)
	}
}
