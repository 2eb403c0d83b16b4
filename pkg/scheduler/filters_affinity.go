package scheduler

// topologyPair is one domain: a node label key and its value.
type topologyPair struct{ key, value string }

// interPodAffinity enforces required pod affinity and anti-affinity, both
// the incoming pod's terms and the anti-affinity of pods already placed.
type interPodAffinity struct {
	c   *cycle
	pod *PodInfo
	// forbidden are domains where a placed pod's anti-affinity term selects
	// the incoming pod.
	forbidden     map[topologyPair]int
	forbiddenKeys []string
	// affinityCounts and antiCounts count, per term, pods selected by the
	// incoming pod's terms in each domain.
	affinityCounts []map[string]int
	antiCounts     []map[string]int
	// firstOfGroup: no pod matches the affinity terms anywhere, but the pod
	// matches them itself, so it may go anywhere (the first pod of a group).
	firstOfGroup bool
}

func (f *interPodAffinity) Name() string { return "InterPodAffinity" }

func (f *interPodAffinity) SetPod(c *cycle) (bool, error) {
	f.pod = c.pod
	f.c = c
	podNS := c.nsLabels(c.pod.Pod.Namespace)
	f.forbidden, f.forbiddenKeys = c.snap.forbiddenDomains(c.pod.Pod, podNS)
	f.affinityCounts = countTerms(c, c.pod.RequiredAffinity)
	f.antiCounts = countTerms(c, c.pod.RequiredAntiAffinity)
	f.firstOfGroup = false
	if len(c.pod.RequiredAffinity) > 0 {
		total := 0
		for _, m := range f.affinityCounts {
			for _, v := range m {
				total += v
			}
		}
		if total == 0 {
			f.firstOfGroup = true
			for i := range c.pod.RequiredAffinity {
				if !c.pod.RequiredAffinity[i].matches(c.pod.Pod, podNS) {
					f.firstOfGroup = false
				}
			}
		}
	}
	return len(f.forbidden) > 0 || len(c.pod.RequiredAffinity) > 0 || len(c.pod.RequiredAntiAffinity) > 0, nil
}

// countTerms counts, for each term, the placed pods it selects per value of
// its topology key.
func countTerms(c *cycle, terms []affinityTerm) []map[string]int {
	return c.snap.countTermMatches(terms, c.pod.Key)
}

func (f *interPodAffinity) Check(n *NodeInfo) *Failure { return f.CheckWithout(n, nil) }

// CheckWithout checks n as if the removed pods (all from n) were gone.
func (f *interPodAffinity) CheckWithout(n *NodeInfo, removed []*PodInfo) *Failure {
	labels := n.Node.Labels
	for _, key := range f.forbiddenKeys {
		v, ok := labels[key]
		if !ok {
			continue
		}
		count := f.forbidden[topologyPair{key, v}]
		for _, r := range removed {
			for i := range r.RequiredAntiAffinity {
				t := &r.RequiredAntiAffinity[i]
				if t.topologyKey == key && t.matches(f.pod.Pod, f.c.nsLabels(f.pod.Pod.Namespace)) {
					count--
				}
			}
		}
		if count > 0 {
			return fail(reasonExistingAnti)
		}
	}
	if !f.firstOfGroup {
		for i := range f.pod.RequiredAffinity {
			t := &f.pod.RequiredAffinity[i]
			v, ok := labels[t.topologyKey]
			if !ok || f.affinityCounts[i][v]-f.matching(t, removed) <= 0 {
				return unresolvable(reasonAffinity)
			}
		}
	}
	for i := range f.pod.RequiredAntiAffinity {
		t := &f.pod.RequiredAntiAffinity[i]
		if v, ok := labels[t.topologyKey]; ok && f.antiCounts[i][v]-f.matching(t, removed) > 0 {
			return fail(reasonAntiAffinity)
		}
	}
	return nil
}

func (f *interPodAffinity) matching(t *affinityTerm, pods []*PodInfo) int {
	count := 0
	for _, p := range pods {
		if t.matches(p.Pod, f.c.nsLabels(p.Pod.Namespace)) {
			count++
		}
	}
	return count
}
