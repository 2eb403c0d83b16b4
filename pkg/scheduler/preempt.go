package scheduler

import (
	"fmt"
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
	cost    planCost
}

// preempt looks for the node where evicting the fewest, lowest-priority
// pods makes room for pi, violating as few PodDisruptionBudgets as it
// can. It returns the plan (nil if none) and the "preemption: ..."
// sentence added to the failure message when there is no plan.
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
	// The budgets are read only for a pod that may preempt at all.
	pdbs, err := listBudgets(s.pdbs)
	if err != nil {
		return nil, fmt.Sprintf("preemption: %v.", err)
	}
	c := &cycle{pod: pi, snap: s.snap}
	return findPreemption(c, s.algo.filters, res.failures, pdbs)
}

// findPreemption runs with the snapshot read-locked and the pipeline set
// for c.pod (as left by the failed cycle). Budget violations only rank
// plans: when every node needs one, the cheapest still wins.
func findPreemption(c *cycle, p *pipeline, failures map[string]*Failure, pdbs *budgets) (*preemptionPlan, string) {
	outcome := map[string]*Failure{}
	var best *preemptionPlan
	for _, n := range c.snap.list {
		f := failures[n.Node.Name]
		if f == nil {
			continue
		}
		if f.Unresolvable {
			outcome[n.Node.Name] = &Failure{Reasons: []string{reasonPreemptionNotHelpful}}
			continue
		}
		plan := selectVictims(c, p, n, pdbs)
		if plan == nil {
			outcome[n.Node.Name] = &Failure{Reasons: []string{reasonNoVictims}}
			continue
		}
		if best == nil || plan.cost.less(best.cost) {
			best = plan
		}
	}
	if best != nil {
		return best, ""
	}
	return nil, fmt.Sprintf("preemption: 0/%d nodes are available: %s.", len(c.snap.list), reasonHistogram(outcome))
}

func hasTerminatingVictim(n *NodeInfo, priority int32) bool {
	for _, p := range n.Pods {
		if p.Pod.DeletionTimestamp != nil && p.Priority < priority {
			return true
		}
	}
	return false
}

// selectVictims returns the plan that evicts pods from n so c.pod fits,
// or nil. It removes every lower-priority pod and checks the pod fits.
// Then it gives pods back while the pod still fits: first those whose
// eviction would violate a PodDisruptionBudget, then the others, each
// group most important first. Violating pods it cannot give back count
// as the plan's violations.
func selectVictims(c *cycle, p *pipeline, n *NodeInfo, pdbs *budgets) *preemptionPlan {
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
	sort.SliceStable(candidates, func(i, j int) bool { return moreImportant(candidates[i], candidates[j]) })
	violating, nonViolating := pdbs.splitByBudget(candidates)
	order := append(append(make([]*PodInfo, 0, len(candidates)), violating...), nonViolating...)
	var victims []*PodInfo
	violations := 0
	for i, cand := range order {
		trial.addPod(cand)
		removed := append(append([]*PodInfo(nil), victims...), order[i+1:]...)
		if fitsWithout(c, p, trial, removed) {
			continue
		}
		trial.removePod(cand.Key)
		victims = append(victims, cand)
		if i < len(violating) {
			violations++
		}
	}
	if len(victims) == 0 {
		return nil
	}
	sort.SliceStable(victims, func(i, j int) bool { return moreImportant(victims[i], victims[j]) })
	return &preemptionPlan{node: n.Node.Name, victims: victims, cost: costOf(victims, violations)}
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
