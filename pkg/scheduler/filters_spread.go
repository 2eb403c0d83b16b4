package scheduler

import (
	"math"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// spreadConstraint is a topology spread constraint with its selector parsed
// and the matching pods counted per domain (value of topologyKey).
type spreadConstraint struct {
	maxSkew     int32
	minDomains  int32
	topologyKey string
	selector    labels.Selector
	// counts holds the domains with matching pods; domains is how many
	// eligible domains there are, with or without them.
	counts    map[string]int
	domains   int
	selfMatch int
	minMatch  int
	anchor    anchor
}

// spreadConstraints parses the pod's constraints with the given
// whenUnsatisfiable and counts matching pods on eligible nodes: nodes that
// pass the pod's node selection (nodeAffinityPolicy Honor, the default) and
// carry every constraint's key.
func spreadConstraints(c *cycle, when corev1.UnsatisfiableConstraintAction) []*spreadConstraint {
	pod := c.pod.Pod
	var out []*spreadConstraint
	for _, tsc := range pod.Spec.TopologySpreadConstraints {
		if tsc.WhenUnsatisfiable != when {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(tsc.LabelSelector)
		if err != nil || tsc.LabelSelector == nil {
			sel = labels.Nothing()
		}
		for _, key := range tsc.MatchLabelKeys {
			if v, ok := pod.Labels[key]; ok {
				if r, err := labels.NewRequirement(key, selection.In, []string{v}); err == nil {
					sel = sel.Add(*r)
				}
			}
		}
		sc := &spreadConstraint{maxSkew: tsc.MaxSkew, topologyKey: tsc.TopologyKey, selector: sel, counts: map[string]int{}, minDomains: 1}
		if tsc.MinDomains != nil {
			sc.minDomains = *tsc.MinDomains
		}
		if sel.Matches(labels.Set(pod.Labels)) {
			sc.selfMatch = 1
		}
		sc.anchor = selectorAnchor(sel)
		out = append(out, sc)
	}
	if len(out) == 0 {
		return nil
	}
	eligible := func(n *NodeInfo) bool {
		if n.Node == nil || !podMatchesNodeSelection(pod, n.Node) {
			return false
		}
		for _, sc := range out {
			if _, ok := n.Node.Labels[sc.topologyKey]; !ok {
				return false
			}
		}
		return true
	}
	// Every eligible domain counts, with no matching pod too.
	if len(out) == 1 && !hasNodeSelection(pod) {
		// Every node with the one key is eligible (with more constraints
		// a node needs every key): the key's values are the domains,
		// known without a walk over the nodes.
		out[0].domains = len(c.snap.labelValues[out[0].topologyKey])
	} else {
		for _, n := range c.snap.list {
			if eligible(n) {
				for _, sc := range out {
					sc.counts[n.Node.Labels[sc.topologyKey]] += 0
				}
			}
		}
		for _, sc := range out {
			sc.domains = len(sc.counts)
		}
	}
	for _, sc := range out {
		c.snap.index.eachCandidate(sc.anchor, func(p *PodInfo, n *NodeInfo) {
			if p.Pod.Namespace == pod.Namespace && p.Pod.DeletionTimestamp == nil &&
				sc.selector.Matches(labels.Set(p.Pod.Labels)) && eligible(n) {
				sc.counts[n.Node.Labels[sc.topologyKey]]++
			}
		})
	}
	for _, sc := range out {
		// A domain without matching pods (or too few domains) makes the
		// minimum 0.
		sc.minMatch = 0
		if sc.domains > 0 && len(sc.counts) == sc.domains && int32(sc.domains) >= sc.minDomains {
			sc.minMatch = math.MaxInt
			for _, v := range sc.counts {
				sc.minMatch = min(sc.minMatch, v)
			}
		}
	}
	return out
}

// hasNodeSelection reports whether the pod restricts its nodes by
// nodeSelector or required node affinity.
func hasNodeSelection(pod *corev1.Pod) bool {
	a := pod.Spec.Affinity
	return len(pod.Spec.NodeSelector) > 0 ||
		a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil
}

// topologySpread enforces DoNotSchedule constraints: placing the pod on a
// node must not make its domain exceed the least loaded domain by more than
// maxSkew.
type topologySpread struct {
	pod         *corev1.Pod
	constraints []*spreadConstraint
}

func (f *topologySpread) Name() string { return "PodTopologySpread" }

func (f *topologySpread) SetPod(c *cycle) (bool, error) {
	f.pod = c.pod.Pod
	f.constraints = spreadConstraints(c, corev1.DoNotSchedule)
	return len(f.constraints) > 0, nil
}

func (f *topologySpread) Check(n *NodeInfo) *Failure { return f.CheckWithout(n, nil) }

// CheckWithout checks n as if the removed pods (all from n) were gone.
func (f *topologySpread) CheckWithout(n *NodeInfo, removed []*PodInfo) *Failure {
	for _, sc := range f.constraints {
		domain, ok := n.Node.Labels[sc.topologyKey]
		if !ok {
			return unresolvable(reasonSpreadLabel)
		}
		count := sc.counts[domain]
		for _, r := range removed {
			if r.Pod.Namespace == f.pod.Namespace && sc.selector.Matches(labels.Set(r.Pod.Labels)) {
				count--
			}
		}
		if count+sc.selfMatch-sc.minMatch > int(sc.maxSkew) {
			return fail(reasonSpread)
		}
	}
	return nil
}
