package daemonset

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// nodePlan is what one sync does on one node.
type nodePlan struct {
	create bool
	remove []*corev1.Pod
	failed []*corev1.Pod // part of remove: failed pods replaced
}

// planNode decides what a node needs. live are the node's daemon pods that
// are neither terminating nor being deleted, oldest first; terminating
// counts the others, which block a new pod until they are gone. With
// surge an updated pod may run next to an old one.
func planNode(pl Placement, live []*corev1.Pod, terminating int, hash string, surge bool) nodePlan {
	var p nodePlan
	if !pl.ShouldContinueRunning {
		p.remove = slices.Clone(live)
		return p
	}
	if !pl.ShouldRun {
		return p
	}
	var running []*corev1.Pod
	for _, pod := range live {
		if pod.Status.Phase == corev1.PodFailed {
			p.failed = append(p.failed, pod)
			continue
		}
		running = append(running, pod)
	}
	p.remove = append(p.remove, p.failed...)
	if len(live) == 0 && terminating == 0 {
		p.create = true
		return p
	}
	if len(running) <= 1 {
		return p
	}
	if !surge {
		return nodePlan{remove: append(p.remove, running[1:]...), failed: p.failed}
	}
	// Keep the oldest updated and the oldest old pod; the rolling update
	// removes the old one once the updated one is available.
	var keptNew, keptOld bool
	for _, pod := range running {
		updated := podHash(pod) == hash
		switch {
		case updated && !keptNew:
			keptNew = true
		case !updated && !keptOld:
			keptOld = true
		default:
			p.remove = append(p.remove, pod)
		}
	}
	return p
}

func podHash(pod *corev1.Pod) string { return pod.Labels[hashLabel] }

// splitUpdated returns a node's single updated and single old pod; ok is
// false when it has more than one of either (the node is being fixed).
func splitUpdated(pods []*corev1.Pod, hash string) (updated, old *corev1.Pod, ok bool) {
	for _, p := range pods {
		if podHash(p) == hash {
			if updated != nil {
				return nil, nil, false
			}
			updated = p
		} else {
			if old != nil {
				return nil, nil, false
			}
			old = p
		}
	}
	return updated, old, true
}

// rollingPlan picks the next step of a rolling update. nodes maps each
// node that should run the daemon to its running pods (none while its pod
// is missing or terminating, which counts as unavailable); available
// tells whether a pod counts as available.
//
// Without surge, old pods are deleted while fewer than maxUnavailable
// nodes lack an available pod (old pods that are not available go at
// once); the node gets its updated pod once the old one is gone. With
// surge, an updated pod is created next to the old one on up to maxSurge
// nodes at a time (at once where the old pod is not available), and the
// old pod is deleted when the updated one is available.
func rollingPlan(nodes map[string][]*corev1.Pod, hash string, maxSurge, maxUnavailable int,
	available func(*corev1.Pod) bool) (remove []*corev1.Pod, createOn []string) {
	names := make([]string, 0, len(nodes))
	for n := range nodes {
		names = append(names, n)
	}
	slices.Sort(names)
	if maxSurge == 0 {
		unavailable := 0
		var now, candidates []*corev1.Pod
		for _, n := range names {
			updated, old, ok := splitUpdated(nodes[n], hash)
			switch {
			case !ok, old == nil && updated == nil:
				unavailable++
			case old == nil && updated != nil:
				if !available(updated) {
					unavailable++
				}
			case old != nil && updated == nil:
				if !available(old) {
					now = append(now, old)
				} else {
					candidates = append(candidates, old)
				}
			}
		}
		budget := max(0, maxUnavailable-unavailable-len(now))
		return append(now, candidates[:min(budget, len(candidates))]...), nil
	}
	surging := 0
	var now, candidates []string
	for _, n := range names {
		updated, old, ok := splitUpdated(nodes[n], hash)
		switch {
		case !ok:
		case old != nil && updated == nil:
			if !available(old) {
				now = append(now, n)
			} else {
				candidates = append(candidates, n)
			}
		case old != nil && updated != nil:
			if available(updated) {
				remove = append(remove, old)
			} else {
				surging++
			}
		}
	}
	budget := max(0, maxSurge-surging)
	return remove, append(now, candidates[:min(budget, len(candidates))]...)
}
