package scheduler

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
)

// Filter is one feasibility rule, in the style of a swarmkit pipeline
// filter: SetPod prepares it for the pod being scheduled, Check answers for
// one node. Check must only read, because nodes are checked in parallel.
type Filter interface {
	Name() string
	// SetPod prepares the filter for c.pod. It returns false when the
	// filter has nothing to check for this pod (it is then skipped), and a
	// *PodError when the pod fits no node at all for a reason not tied to
	// nodes (a missing PVC, say).
	SetPod(c *cycle) (applies bool, err error)
	// Check returns nil when the node passes, else why it does not.
	Check(n *NodeInfo) *Failure
}

// Failure is why one node does not fit a pod. Reasons are the texts that
// Kubernetes prints after the node count ("Insufficient cpu"); Unresolvable
// marks failures preemption cannot fix (a taint, a selector).
type Failure struct {
	Reasons      []string
	Unresolvable bool
}

func fail(reason string) *Failure { return &Failure{Reasons: []string{reason}} }

func unresolvable(reason string) *Failure {
	return &Failure{Reasons: []string{reason}, Unresolvable: true}
}

// PodError is a failure of the pod on every node, reported as is.
type PodError struct{ Message string }

func (e *PodError) Error() string { return e.Message }

// cycle is what filters and scores see about the pod being scheduled.
type cycle struct {
	pod  *PodInfo
	snap *Snapshot // read-locked for the duration of the cycle
	// volumes is filled by the volume filter: claims to annotate with the
	// selected node when binding.
	volumes *volumePlan
}

func (c *cycle) nsLabels(ns string) labels.Set { return c.snap.namespaces[ns] }

// pipeline runs filters in the order Kubernetes runs its filter plugins,
// stopping at a node's first failure.
type pipeline struct {
	filters []Filter
	active  []Filter
}

func newPipeline(filters ...Filter) *pipeline { return &pipeline{filters: filters} }

// setPod prepares every filter; a *PodError fails the pod on all nodes.
func (p *pipeline) setPod(c *cycle) error {
	p.active = p.active[:0]
	for _, f := range p.filters {
		applies, err := f.SetPod(c)
		if err != nil {
			return err
		}
		if applies {
			p.active = append(p.active, f)
		}
	}
	return nil
}

func (p *pipeline) check(n *NodeInfo) *Failure {
	for _, f := range p.active {
		if r := f.Check(n); r != nil {
			return r
		}
	}
	return nil
}

// noNodesMessage is the sentence for a pod that fits no node: the count of
// nodes per reason, sorted as text, like Kubernetes:
// "0/3 nodes are available: 2 Insufficient cpu, 1 node(s) were unschedulable."
// postFilter, when set, is appended (the preemption outcome).
func noNodesMessage(numNodes int, failures map[string]*Failure, podErr error, postFilter string) string {
	msg := fmt.Sprintf("0/%d nodes are available:", numNodes)
	if podErr != nil {
		msg += " " + podErr.Error() + "."
	} else if r := reasonHistogram(failures); r != "" {
		msg += " " + r + "."
	}
	if postFilter != "" {
		msg += " " + postFilter
	}
	return msg
}

func reasonHistogram(failures map[string]*Failure) string {
	counts := map[string]int{}
	for _, f := range failures {
		for _, r := range f.Reasons {
			counts[r]++
		}
	}
	parts := make([]string, 0, len(counts))
	for r, n := range counts {
		parts = append(parts, fmt.Sprintf("%d %s", n, r))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
