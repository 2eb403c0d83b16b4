package podautoscaler

import (
	"fmt"
	"math"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// DefaultTolerance is the fraction by which usage may differ from the
// target before the replica count changes.
const DefaultTolerance = 0.1

// podSample is what the calculation knows of one pod of the target.
type podSample struct {
	name string
	// ready is false for pods not Ready yet (pending or starting).
	ready bool
	// ignored pods (being deleted, failed) count for nothing.
	ignored bool
	// request is the summed request of the resource over the containers;
	// missingRequest names a container without one.
	request        int64
	missingRequest string
	// usage is the measured usage; hasUsage is false when the metrics API
	// has no figures for the pod yet.
	usage    int64
	hasUsage bool
}

// resourceTarget is one Resource metric: either a utilization percentage
// of the request or an average value per pod (in milli-units).
type resourceTarget struct {
	name           corev1.ResourceName
	utilization    *int32
	averageMilli   *int64
	tolerance      float64
	currentReplica int32
}

// proposal is the result of one metric.
type proposal struct {
	replicas int32
	// utilization is the current average utilization (percent of request)
	// when the target is a utilization; averageMilli the current average
	// usage per pod.
	utilization  *int32
	averageMilli int64
}

// replicasFor computes the replica count one Resource metric asks for,
// the way Kubernetes does: pods without figures are assumed to use the
// target when scaling down and nothing when scaling up, not-ready pods
// are assumed to use nothing when scaling up, and a change inside the
// tolerance or one those assumptions reverse is no change.
func replicasFor(t resourceTarget, pods []podSample) (proposal, error) {
	var (
		usageSum, requestSum int64
		measured             int
		missing, unready     []podSample
	)
	for _, p := range pods {
		switch {
		case p.ignored:
			continue
		case !p.hasUsage:
			missing = append(missing, p)
			continue
		case !p.ready:
			unready = append(unready, p)
			continue
		}
		if t.utilization != nil && p.missingRequest != "" {
			return proposal{}, fmt.Errorf("missing request for %s in container %s of Pod %s", t.name, p.missingRequest, p.name)
		}
		usageSum += p.usage
		requestSum += p.request
		measured++
	}
	if measured == 0 {
		return proposal{}, fmt.Errorf("did not receive metrics for targeted pods (pods might be unready)")
	}
	if t.utilization != nil && requestSum == 0 {
		return proposal{}, fmt.Errorf("no pod of the target requests %s", t.name)
	}
	// ratio of usage to target, and the target per pod for filling in.
	ratio := func(usage, request int64, n int) float64 {
		if t.utilization != nil {
			return float64(usage) * 100 / float64(request) / float64(*t.utilization)
		}
		return float64(usage) / (float64(*t.averageMilli) * float64(n))
	}
	out := proposal{averageMilli: usageSum / int64(measured)}
	if t.utilization != nil {
		u := int32(usageSum * 100 / requestSum)
		out.utilization = &u
	}
	current := t.currentReplica
	r := ratio(usageSum, requestSum, measured)
	rebalanceUnready := len(unready) > 0 && r > 1
	if !rebalanceUnready && len(missing) == 0 {
		if math.Abs(1-r) <= t.tolerance {
			out.replicas = current
			return out, nil
		}
		out.replicas = int32(math.Ceil(r * float64(measured)))
		return out, nil
	}
	n := measured
	if r != 1 {
		for _, p := range missing {
			if r < 1 {
				// Scaling down: assume the pod uses exactly the target.
				if t.utilization != nil {
					usageSum += p.request * int64(*t.utilization) / 100
				} else {
					usageSum += *t.averageMilli
				}
			}
			requestSum += p.request
			n++
		}
	}
	if rebalanceUnready {
		for _, p := range unready {
			requestSum += p.request
			n++
		}
	}
	if t.utilization != nil && requestSum == 0 {
		out.replicas = current
		return out, nil
	}
	nr := ratio(usageSum, requestSum, n)
	if math.Abs(1-nr) <= t.tolerance || (r > 1 && nr < 1) || (r < 1 && nr > 1) {
		out.replicas = current
		return out, nil
	}
	desired := int32(math.Ceil(nr * float64(n)))
	if (nr < 1 && desired > current) || (nr > 1 && desired < current) {
		desired = current
	}
	out.replicas = desired
	return out, nil
}

// recommendation is one past raw proposal, for stabilization.
type recommendation struct {
	at       time.Time
	replicas int32
}

// stabilize applies the stabilization windows: a scale-up goes no higher
// than the lowest proposal of the scale-up window, a scale-down no lower
// than the highest proposal of the scale-down window.
func stabilize(history []recommendation, now time.Time, current, proposed int32, upWindow, downWindow time.Duration) int32 {
	up, down := proposed, proposed
	for _, h := range history {
		if upWindow > 0 && h.at.After(now.Add(-upWindow)) && h.replicas < up {
			up = h.replicas
		}
		if downWindow > 0 && h.at.After(now.Add(-downWindow)) && h.replicas > down {
			down = h.replicas
		}
	}
	out := current
	if out < up {
		out = up
	}
	if out > down {
		out = down
	}
	return out
}

// prune drops recommendations older than the longest window.
func prune(history []recommendation, now time.Time, keep time.Duration) []recommendation {
	out := history[:0]
	for _, h := range history {
		if h.at.After(now.Add(-keep)) {
			out = append(out, h)
		}
	}
	return out
}
