package scheduler

import (
	corev1 "k8s.io/api/core/v1"
)

// nodeAffinityScore sums the weights of the preferred node affinity terms a
// node matches.
type nodeAffinityScore struct {
	terms []corev1.PreferredSchedulingTerm
}

func (s *nodeAffinityScore) Name() string  { return "NodeAffinity" }
func (s *nodeAffinityScore) Weight() int64 { return 2 }

func (s *nodeAffinityScore) SetPod(c *cycle, _ []*NodeInfo) bool {
	s.terms = nil
	if a := c.pod.Pod.Spec.Affinity; a != nil && a.NodeAffinity != nil {
		s.terms = a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution
	}
	return len(s.terms) > 0
}

func (s *nodeAffinityScore) Score(n *NodeInfo) int64 {
	var sum int64
	for i := range s.terms {
		if s.terms[i].Weight != 0 && matchNodeSelectorTerm(n.Node, &s.terms[i].Preference) {
			sum += int64(s.terms[i].Weight)
		}
	}
	return sum
}

func (s *nodeAffinityScore) Normalize(scores []int64) { normalizeToMax(scores, false) }

// taintScore prefers nodes with fewer PreferNoSchedule taints the pod does
// not tolerate.
type taintScore struct{ tols []corev1.Toleration }

func (s *taintScore) Name() string  { return "TaintToleration" }
func (s *taintScore) Weight() int64 { return 3 }

func (s *taintScore) SetPod(c *cycle, _ []*NodeInfo) bool {
	s.tols = c.pod.Pod.Spec.Tolerations
	return true
}

func (s *taintScore) Score(n *NodeInfo) int64 {
	var count int64
	for i := range n.Node.Spec.Taints {
		t := &n.Node.Spec.Taints[i]
		if t.Effect == corev1.TaintEffectPreferNoSchedule && !tolerates(s.tols, t) {
			count++
		}
	}
	return count
}

func (s *taintScore) Normalize(scores []int64) { normalizeToMax(scores, true) }

// ownerSpreadScore spreads the pods of one controller (ReplicaSet,
// StatefulSet, Job...) over nodes: fewer siblings on a node score higher.
type ownerSpreadScore struct{ pod *PodInfo }

func (s *ownerSpreadScore) Name() string  { return "OwnerSpread" }
func (s *ownerSpreadScore) Weight() int64 { return 2 }

func (s *ownerSpreadScore) SetPod(c *cycle, _ []*NodeInfo) bool {
	s.pod = c.pod
	return c.pod.OwnerUID != ""
}

func (s *ownerSpreadScore) Score(n *NodeInfo) int64 {
	var count int64
	for _, p := range n.Pods {
		if p.OwnerUID == s.pod.OwnerUID && p.Pod.Namespace == s.pod.Pod.Namespace {
			count++
		}
	}
	return count
}

func (s *ownerSpreadScore) Normalize(scores []int64) { normalizeToMax(scores, true) }

// spreadScore applies ScheduleAnyway topology spread constraints: nodes in
// domains with fewer matching pods score higher.
type spreadScore struct{ constraints []*spreadConstraint }

func (s *spreadScore) Name() string  { return "PodTopologySpread" }
func (s *spreadScore) Weight() int64 { return 2 }

func (s *spreadScore) SetPod(c *cycle, _ []*NodeInfo) bool {
	s.constraints = spreadConstraints(c, corev1.ScheduleAnyway)
	return len(s.constraints) > 0
}

func (s *spreadScore) Score(n *NodeInfo) int64 {
	var sum int64
	for _, sc := range s.constraints {
		domain, ok := n.Node.Labels[sc.topologyKey]
		if !ok {
			// A node outside every domain is the worst choice.
			sum += int64(len(n.Pods)) + 1000
			continue
		}
		sum += int64(sc.counts[domain] + sc.selfMatch)
	}
	return sum
}

func (s *spreadScore) Normalize(scores []int64) { normalizeMinMax(scores, true) }

// podAffinityScore applies preferred pod affinity (+weight per matching pod
// in the node's domain) and anti-affinity (−weight).
type podAffinityScore struct {
	terms  []weightedTerm
	signs  []int64
	counts []map[string]int
}

func (s *podAffinityScore) Name() string  { return "InterPodAffinity" }
func (s *podAffinityScore) Weight() int64 { return 2 }

func (s *podAffinityScore) SetPod(c *cycle, _ []*NodeInfo) bool {
	s.terms, s.signs = s.terms[:0], s.signs[:0]
	for _, t := range c.pod.PreferredAffinity {
		s.terms, s.signs = append(s.terms, t), append(s.signs, 1)
	}
	for _, t := range c.pod.PreferredAntiAffinity {
		s.terms, s.signs = append(s.terms, t), append(s.signs, -1)
	}
	if len(s.terms) == 0 {
		return false
	}
	plain := make([]affinityTerm, len(s.terms))
	for i := range s.terms {
		plain[i] = s.terms[i].affinityTerm
	}
	s.counts = countTerms(c, plain)
	return true
}

func (s *podAffinityScore) Score(n *NodeInfo) int64 {
	var sum int64
	for i := range s.terms {
		if v, ok := n.Node.Labels[s.terms[i].topologyKey]; ok {
			sum += s.signs[i] * int64(s.terms[i].weight) * int64(s.counts[i][v])
		}
	}
	return sum
}

func (s *podAffinityScore) Normalize(scores []int64) { normalizeMinMax(scores, false) }
