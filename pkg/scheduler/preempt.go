package scheduler

import (
	"fmt"
	"math"
	"sort"

	corev1 "k8s.io/api/core/v1"
)

// Preemption outcomes per node, as Kubernetes words them.
const (
	reasonPreemptionNotHelpful = "Preemption is not helpful for scheduling"
	reasonNoVictims            = "No preemption victims found for incoming pod"
)

// preemptionPlan is a node where deleting victims lets the pod fit.
type preemptionPlan struct {
	node    string
	victims []*PodInfo
}

// preempt looks for the node where evicting the fewest, lowest-priority
// pods makes room for pi. It returns the plan (nil if none) and the
// "preemption: ..." sentence added to the failure message when there is no
// plan.
func (s *Scheduler) preempt(pi *PodInfo, res result) (*preemptionPlan, string) {
	pod := pi.Pod
	if pod.Spec.PreemptionPolicy != nil && *pod.Spec.PreemptionPolicy == corev1.PreemptNever {
		return nil, "preemption: not eligible due to preemptionPolicy=Never."
	}
	s.snap.mu.RLock()
	defer s.snap.mu.RUnlock()
	if node := pod.Status.NominatedNodeName; node != "" {
		if n := s.snap.nodes[node]; n != nil && hasTerminatingVictim(n, pi.Priority) {
			return nil, "preemption: not eligible due to a terminating pod on the nominated node."
		}
	}
	if res.podErr != nil {
		return nil, fmt.Sprintf("preemption: 0/%d nodes are available: %d %s.", res.numNodes, res.numNodes, reasonPreemptionNotHelpful)
	}
	c := &cycle{pod: pi, snap: s.snap}
	return findPreemption(c, s.algo.filters, res.failures)
}

// findPreemption runs with the snapshot read-locked and the pipeline set
// for c.pod (as left by the failed cycle).
func findPreemption(c *cycle, p *pipeline, failures map[string]*Failure) (*preemptionPlan, string) {
	outcome := map[string]*Failure{}
	var best *preemptionPlan
	var bestKey [3]int64
	for _, n := range c.snap.list {
		f := failures[n.Node.Name]
		if f == nil {
			continue
		}
		if f.Unresolvable {
			outcome[n.Node.Name] = &Failure{Reasons: []string{reasonPreemptionNotHelpful}}
			continue
		}
		victims := selectVictims(c, p, n)
		if victims == nil {
			outcome[n.Node.Name] = &Failure{Reasons: []string{reasonNoVictims}}
			continue
		}
		key := victimsCost(victims)
		if best == nil || less(key, bestKey) {
			best, bestKey = &preemptionPlan{node: n.Node.Name, victims: victims}, key
		}
	}
	if best != nil {
		return best, ""
	}
	return nil, fmt.Sprintf("preemption: 0/%d nodes are available: %s.", len(c.snap.list), reasonHistogram(outcome))
}

// victimsCost orders plans: lowest highest-victim priority, then lowest
// sum of priorities, then fewest victims.
func victimsCost(victims []*PodInfo) [3]int64 {
	top, sum := int64(math.MinInt32), int64(0)
	for _, v := range victims {
		top = max(top, int64(v.Priority))
		sum += int64(v.Priority) - math.MinInt32
	}
	return [3]int64{top, sum, int64(len(victims))}
}

func less(a, b [3]int64) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

func hasTerminatingVictim(n *NodeInfo, priority int32) bool {
	for _, p := range n.Pods {
		if p.Pod.DeletionTimestamp != nil && p.Priority < priority {
			return true
		}
	}
	return false
}

// selectVictims returns the pods to evict from n so c.pod fits, or nil.
// It removes every lower-priority pod, checks the pod fits, then gives
// pods back, highest priority first, while it still fits.
func selectVictims(c *cycle, p *pipeline, n *NodeInfo) []*PodInfo {
	trial := n.clone()
	var candidates []*PodInfo
	for _, pod := range n.Pods {
		if pod.Priority < c.pod.Priority && pod.Pod.DeletionTimestamp == nil {
			candidates = append(candidates, pod)
			trial.removePod(pod.Key)
		}
	}
	if len(candidates) == 0 || !fitsWithout(c, p, trial, candidates) {
		return nil
	}
	sort.SliceStable(candidates, func(i, j int) bool {
		if candidates[i].Priority != candidates[j].Priority {
			return candidates[i].Priority > candidates[j].Priority
		}
		return candidates[i].Pod.CreationTimestamp.Before(&candidates[j].Pod.CreationTimestamp)
	})
	var victims []*PodInfo
	for i, cand := range candidates {
		trial.addPod(cand)
		rest := candidates[i+1:]
		removed := append(append([]*PodInfo(nil), victims...), rest...)
		if fitsWithout(c, p, trial, removed) {
			continue
		}
		trial.removePod(cand.Key)
		victims = append(victims, cand)
	}
	return victims
}

// fitsWithout checks the trial node (removed pods already taken off it)
// with every filter; filters whose state spans nodes are told which pods
// are gone.
func fitsWithout(c *cycle, p *pipeline, trial *NodeInfo, removed []*PodInfo) bool {
	for _, f := range p.active {
		if ra, ok := f.(removalAware); ok {
			if ra.CheckWithout(trial, removed) != nil {
				return false
			}
			continue
		}
		if f.Check(trial) != nil {
			return false
		}
	}
	return true
}

// removalAware filters keep counts across nodes; CheckWithout answers as
// if the removed pods were gone.
type removalAware interface {
	CheckWithout(n *NodeInfo, removed []*PodInfo) *Failure
}
