package podautoscaler

import (
	"math"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// Defaults of spec.behavior, as in Kubernetes.
const (
	defaultScaleDownWindow = 300 * time.Second
	defaultPolicyPeriod    = 15 * time.Second
)

// scaleEvent is one change of the target's replicas made by the
// controller, for the rate limits of the policies.
type scaleEvent struct {
	at    time.Time
	delta int32 // positive for scale-up
}

// rules is spec.behavior with defaults filled in.
type rules struct {
	upWindow, downWindow time.Duration
	up, down             autoscalingv2.HPAScalingRules
}

func behaviorOf(b *autoscalingv2.HorizontalPodAutoscalerBehavior) rules {
	maxPolicy := autoscalingv2.MaxChangePolicySelect
	r := rules{
		downWindow: defaultScaleDownWindow,
		up: autoscalingv2.HPAScalingRules{SelectPolicy: &maxPolicy, Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		}},
		down: autoscalingv2.HPAScalingRules{SelectPolicy: &maxPolicy, Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		}},
	}
	if b == nil {
		return r
	}
	if u := b.ScaleUp; u != nil {
		if u.StabilizationWindowSeconds != nil {
			r.upWindow = time.Duration(*u.StabilizationWindowSeconds) * time.Second
		}
		if u.SelectPolicy != nil {
			r.up.SelectPolicy = u.SelectPolicy
		}
		if len(u.Policies) > 0 {
			r.up.Policies = u.Policies
		}
	}
	if d := b.ScaleDown; d != nil {
		if d.StabilizationWindowSeconds != nil {
			r.downWindow = time.Duration(*d.StabilizationWindowSeconds) * time.Second
		}
		if d.SelectPolicy != nil {
			r.down.SelectPolicy = d.SelectPolicy
		}
		if len(d.Policies) > 0 {
			r.down.Policies = d.Policies
		}
	}
	return r
}

// longest is how far back the history must reach.
func (r rules) longest() time.Duration {
	d := max(r.upWindow, r.downWindow, defaultPolicyPeriod)
	for _, p := range append(append([]autoscalingv2.HPAScalingPolicy{}, r.up.Policies...), r.down.Policies...) {
		d = max(d, time.Duration(p.PeriodSeconds)*time.Second)
	}
	return d
}

// rateLimit bounds a change by the policies of its direction: the
// replicas at the start of each policy's period (current less the changes
// made since) plus what the policy allows; a disabled direction
// allows no change.
func rateLimit(rs autoscalingv2.HPAScalingRules, events []scaleEvent, now time.Time, current int32, up bool) int32 {
	sel := autoscalingv2.MaxChangePolicySelect
	if rs.SelectPolicy != nil {
		sel = *rs.SelectPolicy
	}
	if sel == autoscalingv2.DisabledPolicySelect {
		return current
	}
	first := true
	var limit int32
	for _, p := range rs.Policies {
		since := now.Add(-time.Duration(p.PeriodSeconds) * time.Second)
		var changed int32
		for _, e := range events {
			if e.at.After(since) && (e.delta > 0) == up {
				changed += e.delta
			}
		}
		start := current - changed
		var l int32
		switch {
		case up && p.Type == autoscalingv2.PodsScalingPolicy:
			l = start + p.Value
		case up:
			l = int32(math.Ceil(float64(start) * (1 + float64(p.Value)/100)))
		case p.Type == autoscalingv2.PodsScalingPolicy:
			l = start - p.Value
		default:
			l = int32(math.Ceil(float64(start) * (1 - float64(p.Value)/100)))
		}
		// Max picks the largest change, Min the smallest.
		wantLarger := (sel == autoscalingv2.MaxChangePolicySelect) == up
		if first || (wantLarger && l > limit) || (!wantLarger && l < limit) {
			limit, first = l, false
		}
	}
	if first {
		return current
	}
	return limit
}
