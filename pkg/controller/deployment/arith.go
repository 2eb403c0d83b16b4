package deployment

import (
	"fmt"
	"math"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// ResolveFenceposts turns maxSurge and maxUnavailable (absolute or a
// percentage of replicas) into pod counts: surge rounds up, unavailable
// rounds down, and when both come out 0 one pod may be unavailable so a
// rollout can always move.
func ResolveFenceposts(maxSurge, maxUnavailable *intstr.IntOrString, replicas int32) (surge, unavailable int32, err error) {
	zero := intstr.FromInt32(0)
	s, err := intstr.GetScaledValueFromIntOrPercent(intstr.ValueOrDefault(maxSurge, zero), int(replicas), true)
	if err != nil {
		return 0, 0, fmt.Errorf("maxSurge: %w", err)
	}
	u, err := intstr.GetScaledValueFromIntOrPercent(intstr.ValueOrDefault(maxUnavailable, zero), int(replicas), false)
	if err != nil {
		return 0, 0, fmt.Errorf("maxUnavailable: %w", err)
	}
	if s == 0 && u == 0 {
		u = 1
	}
	return int32(s), int32(u), nil
}

func isRolling(d *appsv1.Deployment) bool {
	return d.Spec.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType && d.Spec.Strategy.RollingUpdate != nil
}

func replicasOf(d *appsv1.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

// maxSurge is how many pods above spec.replicas a rolling update may run.
func maxSurge(d *appsv1.Deployment) int32 {
	if !isRolling(d) {
		return 0
	}
	ru := d.Spec.Strategy.RollingUpdate
	s, _, err := ResolveFenceposts(ru.MaxSurge, ru.MaxUnavailable, replicasOf(d))
	if err != nil {
		return 0
	}
	return s
}

// maxUnavailable is how many of spec.replicas may be unavailable during a
// rolling update (never more than replicas).
func maxUnavailable(d *appsv1.Deployment) int32 {
	if !isRolling(d) || replicasOf(d) == 0 {
		return 0
	}
	ru := d.Spec.Strategy.RollingUpdate
	_, u, err := ResolveFenceposts(ru.MaxSurge, ru.MaxUnavailable, replicasOf(d))
	if err != nil {
		return 0
	}
	return min(u, replicasOf(d))
}

// specReplicas sums spec.replicas over rss.
func specReplicas(rss []*appsv1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		if rs != nil && rs.Spec.Replicas != nil {
			n += *rs.Spec.Replicas
		}
	}
	return n
}

func rsReplicas(rs *appsv1.ReplicaSet) int32 {
	if rs == nil || rs.Spec.Replicas == nil {
		return 0
	}
	return *rs.Spec.Replicas
}

// NewRSNewReplicas is the size the new ReplicaSet may grow to now: all of
// spec.replicas for Recreate; for RollingUpdate, as much as keeps the
// total of all ReplicaSets within replicas+maxSurge.
func NewRSNewReplicas(d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) int32 {
	if !isRolling(d) {
		return replicasOf(d)
	}
	current := specReplicas(all)
	maxTotal := replicasOf(d) + maxSurge(d)
	if current >= maxTotal {
		return rsReplicas(newRS)
	}
	up := min(maxTotal-current, replicasOf(d)-rsReplicas(newRS))
	return rsReplicas(newRS) + max(up, 0)
}

// OldScaleDownBudget is how many old pods a rolling update may remove now
// without dropping below replicas-maxUnavailable available pods, counting
// the new ReplicaSet's not-yet-available pods as unavailable.
func OldScaleDownBudget(d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) int32 {
	minAvailable := replicasOf(d) - maxUnavailable(d)
	newUnavailable := int32(0)
	if newRS != nil {
		newUnavailable = rsReplicas(newRS) - newRS.Status.AvailableReplicas
	}
	return specReplicas(all) - minAvailable - newUnavailable
}

// proportion is how many of toAdd replicas (negative to remove) rs gets
// when a deployment is resized mid-rollout: its share of the new size
// (replicas+maxSurge) relative to the size recorded in its max-replicas
// annotation, bounded by what is left to hand out.
func proportion(rs *appsv1.ReplicaSet, d *appsv1.Deployment, toAdd, added int32) int32 {
	if rs == nil || rsReplicas(rs) == 0 || toAdd == 0 || toAdd == added {
		return 0
	}
	var fraction int32
	if replicasOf(d) == 0 {
		fraction = -rsReplicas(rs)
	} else {
		target := replicasOf(d) + maxSurge(d)
		annotated, ok := intAnnotation(rs, MaxReplicasAnnotation)
		if !ok || annotated == 0 {
			annotated = d.Status.Replicas
		}
		if annotated == 0 {
			return 0
		}
		size := float64(rsReplicas(rs)*target) / float64(annotated)
		fraction = int32(math.Round(size)) - rsReplicas(rs)
	}
	allowed := toAdd - added
	if toAdd > 0 {
		return min(fraction, allowed)
	}
	return max(fraction, allowed)
}
