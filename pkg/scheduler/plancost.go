package scheduler

import (
	"math"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// planCost ranks preemption plans, cheapest first, in Kubernetes' order:
// fewest PodDisruptionBudget violations, lowest highest-victim priority,
// lowest sum of priorities, fewest victims, then the latest start of the
// earliest-started highest-priority victim (evicting what ran longest
// loses the most work).
type planCost struct {
	violations int
	top        int32
	sum        int64
	count      int
	topStart   time.Time
}

// costOf computes the cost of evicting victims, violations of which
// violate a budget.
func costOf(victims []*PodInfo, violations int) planCost {
	c := planCost{violations: violations, top: math.MinInt32, count: len(victims)}
	for _, v := range victims {
		// Offset so every priority adds a positive amount.
		c.sum += int64(v.Priority) - math.MinInt32
		start := podStartTime(v.Pod)
		switch {
		case v.Priority > c.top:
			c.top, c.topStart = v.Priority, start
		case v.Priority == c.top && start.Before(c.topStart):
			c.topStart = start
		}
	}
	return c
}

// less reports whether a is the cheaper plan.
func (a planCost) less(b planCost) bool {
	switch {
	case a.violations != b.violations:
		return a.violations < b.violations
	case a.top != b.top:
		return a.top < b.top
	case a.sum != b.sum:
		return a.sum < b.sum
	case a.count != b.count:
		return a.count < b.count
	}
	return a.topStart.After(b.topStart)
}

// notStarted stands for the start time of a pod that has not started: it
// counts as started now, later than any pod that has.
var notStarted = time.Date(9999, time.December, 31, 0, 0, 0, 0, time.UTC)

// podStartTime is status.startTime, or notStarted.
func podStartTime(p *corev1.Pod) time.Time {
	if p.Status.StartTime == nil {
		return notStarted
	}
	return p.Status.StartTime.Time
}

// moreImportant orders pods as preemption gives them back: higher
// priority first, then the one started earlier; creation time and key
// make the order stable.
func moreImportant(a, b *PodInfo) bool {
	if a.Priority != b.Priority {
		return a.Priority > b.Priority
	}
	sa, sb := podStartTime(a.Pod), podStartTime(b.Pod)
	if !sa.Equal(sb) {
		return sa.Before(sb)
	}
	ca, cb := a.Pod.CreationTimestamp.Time, b.Pod.CreationTimestamp.Time
	if !ca.Equal(cb) {
		return ca.Before(cb)
	}
	return a.Key < b.Key
}
