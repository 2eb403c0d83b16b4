package scheduler

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// anchorKind says how a selector narrows the pods it can match.
type anchorKind uint8

const (
	// anchorAll: the selector may match a pod without any given label
	// (empty selector, or only NotIn / != / DoesNotExist requirements).
	anchorAll anchorKind = iota
	// anchorValues: a matched pod carries key with one of values.
	anchorValues
	// anchorKey: a matched pod carries key (Exists, Gt, Lt).
	anchorKey
	// anchorNever: the selector matches nothing.
	anchorNever
)

// anchor is one requirement every pod matched by a selector satisfies,
// chosen so the candidates it names are as few as possible. It only
// narrows the search: candidates are still checked with the full selector.
type anchor struct {
	kind   anchorKind
	key    string
	values []string
}

func selectorAnchor(sel labels.Selector) anchor {
	reqs, selectable := sel.Requirements()
	if !selectable {
		return anchor{kind: anchorNever}
	}
	best := anchor{kind: anchorAll}
	for i := range reqs {
		r := &reqs[i]
		switch r.Operator() {
		case selection.In, selection.Equals, selection.DoubleEquals:
			vals := r.Values().List() // distinct, so no pod is visited twice
			if best.kind != anchorValues || len(vals) < len(best.values) {
				best = anchor{kind: anchorValues, key: r.Key(), values: vals}
			}
		case selection.Exists, selection.GreaterThan, selection.LessThan:
			if best.kind == anchorAll {
				best = anchor{kind: anchorKey, key: r.Key()}
			}
		}
	}
	return best
}

// termRef is one required anti-affinity term of a placed pod.
type termRef struct {
	pod *PodInfo
	i   int
}

// podIndex indexes the placed pods of a snapshot by label, and their
// required anti-affinity terms by the labels a pod needs to be selected by
// them, so a cycle visits only pods and terms that can match. It is changed
// with the snapshot's placement and removal of pods, under its lock.
type podIndex struct {
	// all maps every placed pod to its node.
	all map[*PodInfo]*NodeInfo
	// byLabel: label key -> value -> pods carrying it.
	byLabel map[string]map[string]map[*PodInfo]*NodeInfo
	// Anti-affinity terms by anchor: values, key only, or none.
	antiByValue map[string]map[string]map[termRef]*NodeInfo
	antiByKey   map[string]map[termRef]*NodeInfo
	antiAny     map[termRef]*NodeInfo
}

func newPodIndex() *podIndex {
	return &podIndex{
		all: map[*PodInfo]*NodeInfo{}, byLabel: map[string]map[string]map[*PodInfo]*NodeInfo{},
		antiByValue: map[string]map[string]map[termRef]*NodeInfo{},
		antiByKey:   map[string]map[termRef]*NodeInfo{}, antiAny: map[termRef]*NodeInfo{},
	}
}

func (x *podIndex) add(pi *PodInfo, n *NodeInfo) {
	x.all[pi] = n
	for k, v := range pi.Pod.Labels {
		setIn(setIn(x.byLabel, k), v)[pi] = n
	}
	for i := range pi.RequiredAntiAffinity {
		ref := termRef{pi, i}
		switch a := pi.RequiredAntiAffinity[i].anchor; a.kind {
		case anchorValues:
			byValue := setIn(x.antiByValue, a.key)
			for _, v := range a.values {
				setIn(byValue, v)[ref] = n
			}
		case anchorKey:
			setIn(x.antiByKey, a.key)[ref] = n
		case anchorAll:
			x.antiAny[ref] = n
		}
	}
}

func (x *podIndex) remove(pi *PodInfo) {
	delete(x.all, pi)
	for k, v := range pi.Pod.Labels {
		deleteIn(x.byLabel[k], v, pi)
		if len(x.byLabel[k]) == 0 {
			delete(x.byLabel, k)
		}
	}
	for i := range pi.RequiredAntiAffinity {
		ref := termRef{pi, i}
		switch a := pi.RequiredAntiAffinity[i].anchor; a.kind {
		case anchorValues:
			for _, v := range a.values {
				deleteIn(x.antiByValue[a.key], v, ref)
			}
			if len(x.antiByValue[a.key]) == 0 {
				delete(x.antiByValue, a.key)
			}
		case anchorKey:
			deleteIn(x.antiByKey, a.key, ref)
		case anchorAll:
			delete(x.antiAny, ref)
		}
	}
}

// setIn returns m[k], creating it when missing.
func setIn[K comparable, K2 comparable, V any](m map[K]map[K2]V, k K) map[K2]V {
	s, ok := m[k]
	if !ok {
		s = map[K2]V{}
		m[k] = s
	}
	return s
}

// deleteIn removes e from m[k] and drops m[k] once empty.
func deleteIn[K comparable, E comparable, V any](m map[K]map[E]V, k K, e E) {
	if s, ok := m[k]; ok {
		delete(s, e)
		if len(s) == 0 {
			delete(m, k)
		}
	}
}

// eachCandidate calls fn for every placed pod that may match a selector
// with anchor a, and its node.
func (x *podIndex) eachCandidate(a anchor, fn func(*PodInfo, *NodeInfo)) {
	switch a.kind {
	case anchorNever:
	case anchorAll:
		for p, n := range x.all {
			fn(p, n)
		}
	case anchorValues:
		byValue := x.byLabel[a.key]
		for _, v := range a.values {
			for p, n := range byValue[v] {
				fn(p, n)
			}
		}
	case anchorKey:
		for _, pods := range x.byLabel[a.key] {
			for p, n := range pods {
				fn(p, n)
			}
		}
	}
}

// eachAntiTerm calls fn for every placed pod's required anti-affinity term
// that may select a pod with the given labels.
func (x *podIndex) eachAntiTerm(podLabels map[string]string, fn func(termRef, *NodeInfo)) {
	for ref, n := range x.antiAny {
		fn(ref, n)
	}
	for k, v := range podLabels {
		for ref, n := range x.antiByValue[k][v] {
			fn(ref, n)
		}
		for ref, n := range x.antiByKey[k] {
			fn(ref, n)
		}
	}
}

// forbiddenDomains counts, per topology domain, the placed pods' required
// anti-affinity terms that select pod (in a namespace with nsLabels), and
// lists the topology keys involved.
func (s *Snapshot) forbiddenDomains(pod *corev1.Pod, nsLabels labels.Set) (map[topologyPair]int, []string) {
	forbidden := map[topologyPair]int{}
	var keys []string
	s.index.eachAntiTerm(pod.Labels, func(ref termRef, n *NodeInfo) {
		if n.Node == nil {
			return
		}
		t := &ref.pod.RequiredAntiAffinity[ref.i]
		if v, ok := n.Node.Labels[t.topologyKey]; ok && t.matches(pod, nsLabels) {
			forbidden[topologyPair{t.topologyKey, v}]++
			if !contains(keys, t.topologyKey) {
				keys = append(keys, t.topologyKey)
			}
		}
	})
	return forbidden, keys
}

// countTermMatches counts, for each term, the placed pods other than self
// it selects, per value of its topology key on nodes that exist.
func (s *Snapshot) countTermMatches(terms []affinityTerm, self string) []map[string]int {
	if len(terms) == 0 {
		return nil
	}
	counts := make([]map[string]int, len(terms))
	for i := range terms {
		t := &terms[i]
		counts[i] = map[string]int{}
		s.index.eachCandidate(t.anchor, func(p *PodInfo, n *NodeInfo) {
			if n.Node == nil || p.Key == self {
				return
			}
			v, ok := n.Node.Labels[t.topologyKey]
			if ok && t.matches(p.Pod, s.namespaces[p.Pod.Namespace]) {
				counts[i][v]++
			}
		})
	}
	return counts
}
