package scheduler

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// randomWorkload makes pods with random labels, namespaces, required pod
// (anti-)affinity terms and spread constraints over a small label space, so
// selectors of every operator both match and miss.
type randomWorkload struct {
	r *rand.Rand
	n int
}

var (
	randKeys   = []string{"app", "tier", "env"}
	randValues = []string{"a", "b", "c"}
	randTopo   = []string{"kubernetes.io/hostname", "zone", "rack"}
)

func (w *randomWorkload) labels() map[string]string {
	l := map[string]string{}
	for _, k := range randKeys {
		if w.r.IntN(3) > 0 {
			l[k] = randValues[w.r.IntN(len(randValues))]
		}
	}
	return l
}

func (w *randomWorkload) selector() *metav1.LabelSelector {
	sel := &metav1.LabelSelector{}
	for range w.r.IntN(3) {
		key := randKeys[w.r.IntN(len(randKeys))]
		vals := []string{randValues[w.r.IntN(len(randValues))], randValues[w.r.IntN(len(randValues))]}
		switch w.r.IntN(6) {
		case 0:
			sel.MatchLabels = map[string]string{key: vals[0]}
		case 1:
			sel.MatchExpressions = append(sel.MatchExpressions, metav1.LabelSelectorRequirement{Key: key, Operator: metav1.LabelSelectorOpIn, Values: vals})
		case 2:
			sel.MatchExpressions = append(sel.MatchExpressions, metav1.LabelSelectorRequirement{Key: key, Operator: metav1.LabelSelectorOpNotIn, Values: vals[:1]})
		case 3:
			sel.MatchExpressions = append(sel.MatchExpressions, metav1.LabelSelectorRequirement{Key: key, Operator: metav1.LabelSelectorOpExists})
		case 4:
			sel.MatchExpressions = append(sel.MatchExpressions, metav1.LabelSelectorRequirement{Key: key, Operator: metav1.LabelSelectorOpDoesNotExist})
		}
	}
	return sel
}

func (w *randomWorkload) terms() []corev1.PodAffinityTerm {
	var terms []corev1.PodAffinityTerm
	for range w.r.IntN(3) {
		t := corev1.PodAffinityTerm{LabelSelector: w.selector(), TopologyKey: randTopo[w.r.IntN(len(randTopo))]}
		switch w.r.IntN(4) {
		case 0:
			t.Namespaces = []string{"ns-a", "ns-b"}
		case 1:
			t.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"team": "x"}}
		}
		terms = append(terms, t)
	}
	return terms
}

func (w *randomWorkload) pod() *corev1.Pod {
	w.n++
	p := pod(fmt.Sprintf("p-%d", w.n), "10m", "")
	p.Namespace = []string{"ns-a", "ns-b", "ns-c"}[w.r.IntN(3)]
	p.Labels = w.labels()
	p.Spec.Affinity = &corev1.Affinity{
		PodAffinity:     &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: w.terms()},
		PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: w.terms()},
	}
	for range w.r.IntN(3) {
		p.Spec.TopologySpreadConstraints = append(p.Spec.TopologySpreadConstraints, corev1.TopologySpreadConstraint{
			MaxSkew: 1, TopologyKey: randTopo[w.r.IntN(len(randTopo))], WhenUnsatisfiable: corev1.DoNotSchedule,
			LabelSelector: w.selector()})
	}
	if w.r.IntN(10) == 0 {
		now := metav1.Now()
		p.DeletionTimestamp = &now
	}
	return p
}

// TestPodIndexMatchesBruteForce changes a snapshot at random (bound pods,
// assumed pods, forgotten assumptions, removals, finished pods, nodes going,
// coming back and changing zone) and checks after every change that the indexed counts
// used by the affinity and spread filters equal a walk over every placed
// pod.
func TestPodIndexMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	w := &randomWorkload{r: r}
	snap := NewSnapshot(nil)
	var nodes []*corev1.Node
	for i := range 12 {
		lbls := map[string]string{}
		if i%4 != 3 {
			lbls["zone"] = fmt.Sprintf("z%d", i%3)
		}
		if i%2 == 0 {
			lbls["rack"] = fmt.Sprintf("r%d", i%5)
		}
		n := node(fmt.Sprintf("n%d", i), "4", "8Gi", 110, lbls)
		nodes = append(nodes, n)
		snap.SetNode(n)
	}
	snap.SetNamespace(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns-b", Labels: map[string]string{"team": "x"}}})
	snap.SetNamespace(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns-c", Labels: map[string]string{"team": "y"}}})
	var placed []*corev1.Pod
	var assumed []string
	for step := range 1500 {
		switch op := r.IntN(10); {
		case op < 4:
			p := on(w.pod(), nodes[r.IntN(len(nodes))].Name)
			if r.IntN(15) == 0 {
				p.Status.Phase = corev1.PodSucceeded
			}
			snap.AddPod(p)
			placed = append(placed, p)
		case op < 6:
			p := w.pod()
			node := nodes[r.IntN(len(nodes))].Name
			snap.Assume(newPodInfo(p, 0), node)
			assumed = append(assumed, podKey(p))
			if r.IntN(2) == 0 {
				placed = append(placed, on(p, node))
			}
		case op < 7 && len(assumed) > 0:
			i := r.IntN(len(assumed))
			snap.Forget(assumed[i])
			assumed = append(assumed[:i], assumed[i+1:]...)
		case op < 9 && len(placed) > 0:
			i := r.IntN(len(placed))
			if r.IntN(2) == 0 {
				snap.RemovePod(placed[i])
				placed = append(placed[:i], placed[i+1:]...)
			} else {
				// The informer confirms an assumed or bound pod again.
				snap.AddPod(placed[i])
			}
		default:
			i := r.IntN(len(nodes))
			if r.IntN(2) == 0 {
				snap.RemoveNode(nodes[i].Name)
				if r.IntN(3) == 0 {
					break
				}
			}
			// Back, or updated in place; sometimes in another zone.
			if r.IntN(3) == 0 {
				n := nodes[i].DeepCopy()
				n.Labels["zone"] = fmt.Sprintf("z%d", r.IntN(4))
				nodes[i] = n
			}
			snap.SetNode(nodes[i])
		}
		for range 3 {
			checkIndex(t, step, snap, newPodInfo(w.pod(), 0))
		}
		if t.Failed() {
			return
		}
	}
	for _, n := range nodes {
		snap.SetNode(n)
	}
	for _, p := range placed {
		snap.RemovePod(p)
	}
	for _, k := range assumed {
		snap.Forget(k)
	}
	if len(snap.index.all) != 0 || len(snap.index.byLabel) != 0 || len(snap.index.antiByValue) != 0 ||
		len(snap.index.antiByKey) != 0 || len(snap.index.antiAny) != 0 {
		t.Errorf("index not empty after removing every pod: %d pods, %d label keys, %d/%d/%d terms",
			len(snap.index.all), len(snap.index.byLabel), len(snap.index.antiByValue), len(snap.index.antiByKey), len(snap.index.antiAny))
	}
}

func checkIndex(t *testing.T, step int, snap *Snapshot, pi *PodInfo) {
	t.Helper()
	snap.mu.RLock()
	defer snap.mu.RUnlock()
	c := &cycle{pod: pi, snap: snap}
	ns := c.nsLabels(pi.Pod.Namespace)
	gotForbidden, _ := snap.forbiddenDomains(pi.Pod, ns)
	if diff := cmp.Diff(bruteForbidden(snap, pi.Pod, ns), gotForbidden, cmp.AllowUnexported(topologyPair{})); diff != "" {
		t.Errorf("step %d: forbidden domains for %s (-brute +index):\n%s", step, pi.Key, diff)
	}
	for _, terms := range [][]affinityTerm{pi.RequiredAffinity, pi.RequiredAntiAffinity} {
		if diff := cmp.Diff(bruteCountTerms(c, terms), countTerms(c, terms)); diff != "" {
			t.Errorf("step %d: term counts for %s (-brute +index):\n%s", step, pi.Key, diff)
		}
	}
	got := spreadConstraints(c, corev1.DoNotSchedule)
	want := spreadConstraints(c, corev1.DoNotSchedule)
	bruteSpreadCounts(c, want)
	for i := range got {
		if diff := cmp.Diff(nonZero(want[i].counts), nonZero(got[i].counts)); diff != "" {
			t.Errorf("step %d: spread counts %d for %s (-brute +index):\n%s", step, i, pi.Key, diff)
		}
		if got[i].domains != want[i].domains || got[i].minMatch != want[i].minMatch {
			t.Errorf("step %d: constraint %d for %s: %d domains, min %d; brute force %d and %d",
				step, i, pi.Key, got[i].domains, got[i].minMatch, want[i].domains, want[i].minMatch)
		}
	}
}

// bruteForbidden walks every placed pod's required anti-affinity terms.
func bruteForbidden(s *Snapshot, pod *corev1.Pod, ns labels.Set) map[topologyPair]int {
	out := map[topologyPair]int{}
	for _, n := range s.nodes {
		if n.Node == nil {
			continue
		}
		for _, p := range n.Pods {
			for i := range p.RequiredAntiAffinity {
				t := &p.RequiredAntiAffinity[i]
				if v, ok := n.Node.Labels[t.topologyKey]; ok && t.matches(pod, ns) {
					out[topologyPair{t.topologyKey, v}]++
				}
			}
		}
	}
	return out
}

// bruteCountTerms walks every pod on every node.
func bruteCountTerms(c *cycle, terms []affinityTerm) []map[string]int {
	if len(terms) == 0 {
		return nil
	}
	counts := make([]map[string]int, len(terms))
	for i := range terms {
		counts[i] = map[string]int{}
		t := &terms[i]
		for _, n := range c.snap.list {
			v, ok := n.Node.Labels[t.topologyKey]
			if !ok {
				continue
			}
			for _, p := range n.Pods {
				if p.Key != c.pod.Key && t.matches(p.Pod, c.nsLabels(p.Pod.Namespace)) {
					counts[i][v]++
				}
			}
		}
	}
	return counts
}

// bruteSpreadCounts recounts the constraints' domains by walking every
// eligible node's pods.
func nonZero(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

// bruteSpreadCounts recounts every eligible domain, the minimum and the
// number of domains by walking every node.
func bruteSpreadCounts(c *cycle, constraints []*spreadConstraint) {
	pod := c.pod.Pod
	for _, sc := range constraints {
		sc.counts = map[string]int{}
	}
	for _, n := range c.snap.list {
		if !podMatchesNodeSelection(pod, n.Node) {
			continue
		}
		complete := true
		for _, sc := range constraints {
			if _, ok := n.Node.Labels[sc.topologyKey]; !ok {
				complete = false
			}
		}
		if !complete {
			continue
		}
		for _, sc := range constraints {
			domain := n.Node.Labels[sc.topologyKey]
			sc.counts[domain] += 0
			for _, p := range n.Pods {
				if p.Pod.Namespace == pod.Namespace && p.Pod.DeletionTimestamp == nil && sc.selector.Matches(labels.Set(p.Pod.Labels)) {
					sc.counts[domain]++
				}
			}
		}
	}
	for _, sc := range constraints {
		sc.domains, sc.minMatch = len(sc.counts), 0
		if sc.domains > 0 && int32(sc.domains) >= sc.minDomains {
			sc.minMatch = math.MaxInt
			for _, v := range sc.counts {
				sc.minMatch = min(sc.minMatch, v)
			}
		}
	}
}

func TestSelectorAnchor(t *testing.T) {
	parse := func(s string) labels.Selector {
		sel, err := labels.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return sel
	}
	cases := []struct {
		sel  labels.Selector
		want anchor
	}{
		{labels.Nothing(), anchor{kind: anchorNever}},
		{labels.Everything(), anchor{kind: anchorAll}},
		{parse("app!=a,!tier"), anchor{kind: anchorAll}},
		{parse("app,tier notin (x)"), anchor{kind: anchorKey, key: "app"}},
		{parse("app,tier in (x,y),env=z"), anchor{kind: anchorValues, key: "env", values: []string{"z"}}},
	}
	for _, tc := range cases {
		if diff := cmp.Diff(tc.want, selectorAnchor(tc.sel), cmp.AllowUnexported(anchor{})); diff != "" {
			t.Errorf("%s: (-want +got):\n%s", tc.sel, diff)
		}
	}
}
