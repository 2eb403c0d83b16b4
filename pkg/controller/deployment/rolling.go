package deployment

import (
	"context"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
)

// rolloutRolling makes one step of a rolling update: grow the new
// ReplicaSet within maxSurge, or else shrink old ones within
// maxUnavailable; once complete, prune history.
func (dc *Controller) rolloutRolling(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, oldRSs, err := dc.getAllReplicaSetsAndSyncRevision(ctx, d, rsList, true)
	if err != nil {
		return err
	}
	all := appendNew(oldRSs, newRS)
	scaledUp, err := dc.reconcileNewReplicaSet(ctx, all, newRS, d)
	if err != nil {
		return err
	}
	if scaledUp {
		return dc.syncRolloutStatus(ctx, all, newRS, d)
	}
	scaledDown, err := dc.reconcileOldReplicaSets(ctx, all, activeReplicaSets(oldRSs), newRS, d)
	if err != nil {
		return err
	}
	if scaledDown {
		return dc.syncRolloutStatus(ctx, all, newRS, d)
	}
	if deploymentComplete(d, &d.Status) {
		if err := dc.cleanupDeployment(ctx, oldRSs, d); err != nil {
			return err
		}
	}
	return dc.syncRolloutStatus(ctx, all, newRS, d)
}

func (dc *Controller) reconcileNewReplicaSet(ctx context.Context, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) (bool, error) {
	switch n := rsReplicas(newRS); {
	case n == replicasOf(d):
		return false, nil
	case n > replicasOf(d):
		_, err := dc.scaleReplicaSet(ctx, newRS, replicasOf(d), d)
		return err == nil, err
	}
	size := NewRSNewReplicas(d, all, newRS)
	if size == rsReplicas(newRS) {
		return false, nil
	}
	_, err := dc.scaleReplicaSet(ctx, newRS, size, d)
	return err == nil, err
}

// reconcileOldReplicaSets shrinks old ReplicaSets as far as availability
// allows: first the pods that are not available anyway, then healthy ones.
func (dc *Controller) reconcileOldReplicaSets(ctx context.Context, all, oldRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) (bool, error) {
	if specReplicas(oldRSs) == 0 {
		return false, nil
	}
	budget := OldScaleDownBudget(d, all, newRS)
	if budget <= 0 {
		return false, nil
	}
	cleaned, err := dc.cleanupUnhealthyReplicas(ctx, oldRSs, d, budget)
	if err != nil {
		return false, err
	}
	scaled, err := dc.scaleDownOldForRollingUpdate(ctx, appendNew(oldRSs, newRS), oldRSs, d)
	if err != nil {
		return false, err
	}
	return cleaned+scaled > 0, nil
}

// cleanupUnhealthyReplicas removes, oldest ReplicaSet first, up to budget
// old replicas that are not available: losing them costs no availability.
func (dc *Controller) cleanupUnhealthyReplicas(ctx context.Context, oldRSs []*appsv1.ReplicaSet, d *appsv1.Deployment, budget int32) (int32, error) {
	sorted := slices.Clone(oldRSs)
	slices.SortFunc(sorted, byCreation)
	var total int32
	for _, rs := range sorted {
		if total >= budget {
			break
		}
		n := rsReplicas(rs)
		if n == 0 || n == rs.Status.AvailableReplicas {
			continue
		}
		down := min(budget-total, n-rs.Status.AvailableReplicas)
		if down <= 0 {
			continue
		}
		if _, err := dc.scaleReplicaSet(ctx, rs, n-down, d); err != nil {
			return total, err
		}
		total += down
	}
	return total, nil
}

// scaleDownOldForRollingUpdate removes available old replicas, oldest
// ReplicaSet first, while more than replicas-maxUnavailable are available.
func (dc *Controller) scaleDownOldForRollingUpdate(ctx context.Context, all, oldRSs []*appsv1.ReplicaSet, d *appsv1.Deployment) (int32, error) {
	minAvailable := replicasOf(d) - maxUnavailable(d)
	var available int32
	for _, rs := range all {
		available += rs.Status.AvailableReplicas
	}
	if available <= minAvailable {
		return 0, nil
	}
	budget := available - minAvailable
	sorted := slices.Clone(oldRSs)
	slices.SortFunc(sorted, byCreation)
	var total int32
	for _, rs := range sorted {
		if total >= budget {
			break
		}
		n := rsReplicas(rs)
		if n == 0 {
			continue
		}
		down := min(n, budget-total)
		if _, err := dc.scaleReplicaSet(ctx, rs, n-down, d); err != nil {
			return total, err
		}
		total += down
	}
	return total, nil
}
