package replicaset

import (
	"math"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// deletionCostAnnotation lets users rank pods for scale-down; lower cost
// goes first.
const deletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// podsToDelete picks the n pods to remove on scale-down, cheapest to lose
// first: unscheduled before scheduled, pending before unknown before
// running, not ready before ready, pods sharing a node with more siblings
// first, lower deletion cost first, ready for a shorter time first, more
// container restarts first, newer before older.
func podsToDelete(pods []*corev1.Pod, n int) []*corev1.Pod {
	if n >= len(pods) {
		return pods
	}
	perNode := map[string]int{}
	for _, p := range pods {
		if p.Spec.NodeName != "" {
			perNode[p.Spec.NodeName]++
		}
	}
	ranked := make([]rankedPod, len(pods))
	for i, p := range pods {
		ranked[i] = rankedPod{pod: p, rank: perNode[p.Spec.NodeName]}
	}
	slices.SortStableFunc(ranked, compareForDeletion)
	out := make([]*corev1.Pod, n)
	for i := range out {
		out[i] = ranked[i].pod
	}
	return out
}

type rankedPod struct {
	pod  *corev1.Pod
	rank int // siblings on the same node, this pod included
}

var phaseOrder = map[corev1.PodPhase]int{corev1.PodPending: 0, corev1.PodUnknown: 1, corev1.PodRunning: 2}

// compareForDeletion orders a before b when a is the better pod to delete.
func compareForDeletion(ra, rb rankedPod) int {
	a, b := ra.pod, rb.pod
	if c := cmpBool(a.Spec.NodeName != "", b.Spec.NodeName != ""); c != 0 {
		return c
	}
	if c := phaseOrder[a.Status.Phase] - phaseOrder[b.Status.Phase]; c != 0 {
		return c
	}
	readyA, readyB := IsPodReady(a), IsPodReady(b)
	if c := cmpBool(readyA, readyB); c != 0 {
		return c
	}
	if ra.rank != rb.rank {
		return rb.rank - ra.rank
	}
	if ca, cb := deletionCost(a), deletionCost(b); ca != cb {
		if ca < cb {
			return -1
		}
		return 1
	}
	if readyA && readyB {
		if c := -compareTimes(readySince(a), readySince(b)); c != 0 {
			return c
		}
	}
	if c := restarts(b) - restarts(a); c != 0 {
		return c
	}
	return -compareTimes(a.CreationTimestamp.Time, b.CreationTimestamp.Time)
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// compareTimes orders the zero time last (as the newest), then by time.
func compareTimes(a, b time.Time) int {
	switch {
	case a.IsZero() && b.IsZero():
		return 0
	case a.IsZero():
		return 1
	case b.IsZero():
		return -1
	}
	return a.Compare(b)
}

func readySince(p *corev1.Pod) time.Time {
	if c := readyCondition(p); c != nil {
		return c.LastTransitionTime.Time
	}
	return time.Time{}
}

func restarts(p *corev1.Pod) int {
	n := 0
	for _, s := range p.Status.ContainerStatuses {
		n = max(n, int(s.RestartCount))
	}
	return n
}

func deletionCost(p *corev1.Pod) int64 {
	v, ok := p.Annotations[deletionCostAnnotation]
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return math.MaxInt32
	}
	return n
}
