package scheduler

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestExplanationSentence(t *testing.T) {
	tainted := node("n3", "8", "8Gi", 110, nil)
	tainted.Spec.Taints = []corev1.Taint{{Key: "k", Value: "v", Effect: corev1.TaintEffectNoSchedule}}
	w := newWorld(t, []*corev1.Node{node("n1", "1", "8Gi", 110, nil), node("n2", "1", "8Gi", 110, nil), tainted}, nil)
	mustFail(t, w, pod("big", "2", ""),
		"0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu.")
}

func TestMultipleResourceReasonsPerNode(t *testing.T) {
	w := newWorld(t, []*corev1.Node{node("n1", "1", "1Gi", 1, nil)}, []*corev1.Pod{on(pod("p", "", ""), "n1")})
	mustFail(t, w, pod("big", "2", "2Gi"),
		"0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 Too many pods.")
}

func TestNoNodes(t *testing.T) {
	w := newWorld(t, nil, nil)
	if _, err := w.place(pod("p", "", "")); err == nil {
		t.Fatal("placed a pod without nodes")
	}
}

func TestNodeUnschedulable(t *testing.T) {
	cordoned := node("n1", "1", "1Gi", 10, nil)
	cordoned.Spec.Unschedulable = true
	w := newWorld(t, []*corev1.Node{cordoned}, nil)
	mustFail(t, w, pod("p", "", ""), "0/1 nodes are available: 1 node(s) were unschedulable.")
	p := pod("tolerant", "", "")
	p.Spec.Tolerations = []corev1.Toleration{{Key: unschedulableTaintKey, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
	mustPlace(t, w, p)
}

func TestTaintToleration(t *testing.T) {
	n := node("n1", "1", "1Gi", 10, nil)
	n.Spec.Taints = []corev1.Taint{
		{Key: "soft", Value: "x", Effect: corev1.TaintEffectPreferNoSchedule},
		{Key: "gpu", Value: "yes", Effect: corev1.TaintEffectNoExecute},
	}
	w := newWorld(t, []*corev1.Node{n}, nil)
	mustFail(t, w, pod("p", "", ""), "0/1 nodes are available: 1 node(s) had untolerated taint {gpu: yes}.")
	for name, tol := range map[string]corev1.Toleration{
		"equal":  {Key: "gpu", Operator: corev1.TolerationOpEqual, Value: "yes"},
		"exists": {Key: "gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
		"all":    {Operator: corev1.TolerationOpExists},
	} {
		p := pod(name, "", "")
		p.Spec.Tolerations = []corev1.Toleration{tol}
		mustPlace(t, w, p)
	}
	p := pod("wrong-value", "", "")
	p.Spec.Tolerations = []corev1.Toleration{{Key: "gpu", Value: "no"}}
	mustFail(t, w, p, "0/1 nodes are available: 1 node(s) had untolerated taint {gpu: yes}.")
}

func TestNodeAffinityOperators(t *testing.T) {
	nodes := []*corev1.Node{
		node("a", "1", "1Gi", 10, map[string]string{"zone": "z1", "cores": "4"}),
		node("b", "1", "1Gi", 10, map[string]string{"zone": "z2", "cores": "16"}),
		node("c", "1", "1Gi", 10, map[string]string{"disk": "ssd"}),
	}
	w := newWorld(t, nodes, nil)
	req := func(exprs []corev1.NodeSelectorRequirement, fields []corev1.NodeSelectorRequirement) *corev1.Pod {
		p := pod("p", "", "")
		p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{
				{MatchExpressions: exprs, MatchFields: fields}}}}}
		return p
	}
	cases := []struct {
		name   string
		exprs  []corev1.NodeSelectorRequirement
		fields []corev1.NodeSelectorRequirement
		want   string
	}{
		{"In", []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"z2"}}}, nil, "b"},
		{"Gt", []corev1.NodeSelectorRequirement{{Key: "cores", Operator: corev1.NodeSelectorOpGt, Values: []string{"8"}}}, nil, "b"},
		{"Lt", []corev1.NodeSelectorRequirement{{Key: "cores", Operator: corev1.NodeSelectorOpLt, Values: []string{"8"}}}, nil, "a"},
		{"Exists", []corev1.NodeSelectorRequirement{{Key: "disk", Operator: corev1.NodeSelectorOpExists}}, nil, "c"},
		{"DoesNotExist+NotIn", []corev1.NodeSelectorRequirement{
			{Key: "disk", Operator: corev1.NodeSelectorOpDoesNotExist},
			{Key: "zone", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"z1"}}}, nil, "b"},
		{"matchFields", nil, []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"c"}}}, "c"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustPlace(t, w, req(tc.exprs, tc.fields)); got != tc.want {
				t.Fatalf("placed on %s, want %s", got, tc.want)
			}
		})
	}
	mustFail(t, w, req([]corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"z9"}}}, nil),
		"0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.")
	sel := pod("sel", "", "")
	sel.Spec.NodeSelector = map[string]string{"zone": "z1"}
	if got := mustPlace(t, w, sel); got != "a" {
		t.Fatalf("nodeSelector placed on %s", got)
	}
}

func TestResourceRequestsRules(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	p := pod("p", "100m", "")
	p.Spec.InitContainers = []corev1.Container{
		{Name: "sidecar", RestartPolicy: &always, Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m")}}},
		{Name: "init", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}},
	}
	p.Spec.Overhead = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m")}
	// max(100m + 200m sidecar, 200m sidecar + 1 init) + 50m overhead.
	if got := podRequests(p).MilliCPU; got != 1250 {
		t.Fatalf("requests %dm, want 1250m", got)
	}
	w := newWorld(t, []*corev1.Node{node("n1", "1200m", "1Gi", 10, nil), node("n2", "1300m", "1Gi", 10, nil)}, nil)
	if got := mustPlace(t, w, p); got != "n2" {
		t.Fatalf("placed on %s", got)
	}
}

func TestExtendedResources(t *testing.T) {
	n := node("n1", "1", "1Gi", 10, nil)
	n.Status.Allocatable["example.com/gpu"] = resource.MustParse("1")
	w := newWorld(t, []*corev1.Node{n, node("n2", "1", "1Gi", 10, nil)}, nil)
	p := pod("p", "", "")
	p.Spec.Containers[0].Resources.Requests["example.com/gpu"] = resource.MustParse("1")
	if got := mustPlace(t, w, p); got != "n1" {
		t.Fatalf("placed on %s", got)
	}
	w.snap.AddPod(on(p, "n1"))
	p2 := p.DeepCopy()
	p2.Name = "p2"
	mustFail(t, w, p2, "0/2 nodes are available: 2 Insufficient example.com/gpu.")
}

func TestNodePorts(t *testing.T) {
	withPort := func(name string, port int32, proto corev1.Protocol, ip string) *corev1.Pod {
		p := pod(name, "", "")
		p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: port, Protocol: proto, HostIP: ip}}
		return p
	}
	w := newWorld(t, []*corev1.Node{node("n1", "1", "1Gi", 10, nil)},
		[]*corev1.Pod{on(withPort("web", 8080, corev1.ProtocolTCP, "10.0.0.1"), "n1")})
	mustFail(t, w, withPort("same", 8080, "", ""), "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports.")
	mustFail(t, w, withPort("sameip", 8080, corev1.ProtocolTCP, "10.0.0.1"), "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports.")
	mustPlace(t, w, withPort("udp", 8080, corev1.ProtocolUDP, ""))
	mustPlace(t, w, withPort("otherip", 8080, corev1.ProtocolTCP, "10.0.0.2"))
	mustPlace(t, w, withPort("otherport", 8081, corev1.ProtocolTCP, ""))
}

func TestTopologySpread(t *testing.T) {
	nodes := []*corev1.Node{
		node("a1", "4", "4Gi", 10, map[string]string{"zone": "a"}),
		node("b1", "4", "4Gi", 10, map[string]string{"zone": "b"}),
		node("nolabel", "4", "4Gi", 10, nil),
	}
	app := map[string]string{"app": "web"}
	w := newWorld(t, nodes, []*corev1.Pod{
		on(withLabels(pod("w1", "", ""), app), "a1"),
		on(withLabels(pod("w2", "", ""), app), "a1"),
		on(withLabels(pod("w3", "", ""), app), "b1"),
	})
	p := withLabels(pod("w4", "", ""), app)
	p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
		MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: corev1.DoNotSchedule,
		LabelSelector: &metav1.LabelSelector{MatchLabels: app}}}
	if got := mustPlace(t, w, p); got != "b1" {
		t.Fatalf("placed on %s, want b1", got)
	}
	w.snap.AddPod(on(p, "b1"))
	w.snap.AddPod(on(withLabels(pod("w5", "", ""), app), "b1"))
	p6 := p.DeepCopy()
	p6.Name = "w6"
	if got := mustPlace(t, w, p6); got != "a1" {
		t.Fatalf("placed on %s, want a1", got)
	}
	one := int32(3)
	p7 := p.DeepCopy()
	p7.Name = "w7"
	p7.Spec.TopologySpreadConstraints[0].MinDomains = &one
	// With 3 required domains and 2 present, the minimum counts as 0.
	mustFail(t, w, p7, "0/3 nodes are available: 1 node(s) didn't match pod topology spread constraints (missing required label), 2 node(s) didn't match pod topology spread constraints.")
}

func TestInterPodAntiAffinity(t *testing.T) {
	nodes := []*corev1.Node{node("n1", "4", "4Gi", 10, nil), node("n2", "4", "4Gi", 10, nil)}
	db := map[string]string{"app": "db"}
	w := newWorld(t, nodes, []*corev1.Pod{on(withLabels(pod("db1", "", ""), db), "n1")})
	p := withLabels(pod("db2", "", ""), db)
	p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			TopologyKey: "kubernetes.io/hostname", LabelSelector: &metav1.LabelSelector{MatchLabels: db}}}}}
	if got := mustPlace(t, w, p); got != "n2" {
		t.Fatalf("placed on %s", got)
	}
	w.snap.AddPod(on(p, "n2"))
	p3 := p.DeepCopy()
	p3.Name = "db3"
	mustFail(t, w, p3, "0/2 nodes are available: 1 node(s) didn't match pod anti-affinity rules, 1 node(s) didn't satisfy existing pods anti-affinity rules.")
	// A plain db pod is kept away by db2's anti-affinity (existing pod's rule).
	plain := withLabels(pod("db4", "", ""), db)
	if got := mustPlace(t, w, plain); got != "n1" {
		t.Fatalf("placed on %s, want n1 (db2 on n2 repels it)", got)
	}
}

func TestInterPodAffinity(t *testing.T) {
	nodes := []*corev1.Node{
		node("a1", "4", "4Gi", 10, map[string]string{"zone": "a"}),
		node("b1", "4", "4Gi", 10, map[string]string{"zone": "b"}),
		node("b2", "4", "4Gi", 10, map[string]string{"zone": "b"}),
	}
	cache := map[string]string{"app": "cache"}
	affine := func(name string) *corev1.Pod {
		p := withLabels(pod(name, "", ""), cache)
		p.Spec.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				TopologyKey: "zone", LabelSelector: &metav1.LabelSelector{MatchLabels: cache}}}}}
		return p
	}
	w := newWorld(t, nodes, nil)
	first := mustPlace(t, w, affine("c1")) // first of its group goes anywhere
	w.snap.AddPod(on(affine("c1"), first))
	zone := nodes[0].Labels["zone"]
	for _, n := range nodes {
		if n.Name == first {
			zone = n.Labels["zone"]
		}
	}
	for i := 0; i < 5; i++ {
		got := mustPlace(t, w, affine("c2"))
		for _, n := range nodes {
			if n.Name == got && n.Labels["zone"] != zone {
				t.Fatalf("placed in zone %s, want %s", n.Labels["zone"], zone)
			}
		}
	}
	other := withLabels(pod("o", "", ""), map[string]string{"app": "other"})
	other.Spec.Affinity = affine("x").Spec.Affinity.DeepCopy()
	other.Spec.Affinity.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].LabelSelector.MatchLabels = map[string]string{"app": "none"}
	mustFail(t, w, other, "0/3 nodes are available: 3 node(s) didn't match pod affinity rules.")
}

func TestNumFeasibleNodesToFind(t *testing.T) {
	a := &algorithm{}
	for _, tc := range []struct{ nodes, want int }{
		{10, 10}, {100, 100}, {500, 230}, {1000, 420}, {5000, 500}, {6000, 300}, {150, 100},
	} {
		if got := a.numFeasibleNodesToFind(tc.nodes); got != tc.want {
			t.Errorf("%d nodes: %d, want %d", tc.nodes, got, tc.want)
		}
	}
}
