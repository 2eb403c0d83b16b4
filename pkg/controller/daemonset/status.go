package daemonset

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/tugcluster/tug/pkg/controller/replicaset"
)

// calculateStatus counts, over the existing nodes, where ds runs and how
// healthy its pods are. A node that should run the daemon is ready,
// available or updated when one of its live pods is.
func (dc *Controller) calculateStatus(ds *appsv1.DaemonSet, nodes []*corev1.Node, placements map[string]Placement,
	byNode map[string]*nodePods, hash string, collisions int32) appsv1.DaemonSetStatus {
	s := appsv1.DaemonSetStatus{ObservedGeneration: ds.Generation, Conditions: ds.Status.Conditions}
	if collisions != 0 || ds.Status.CollisionCount != nil {
		s.CollisionCount = &collisions
	}
	now := dc.now()
	for _, node := range nodes {
		pl := placements[node.Name]
		np := byNode[node.Name]
		has := np != nil && len(np.live)+np.terminating > 0
		if !pl.ShouldRun {
			if has {
				s.NumberMisscheduled++
			}
			continue
		}
		s.DesiredNumberScheduled++
		if !has {
			continue
		}
		s.CurrentNumberScheduled++
		var ready, available, updated bool
		for _, p := range np.live {
			ready = ready || replicaset.IsPodReady(p)
			available = available || replicaset.IsPodAvailable(p, ds.Spec.MinReadySeconds, now)
			updated = updated || podHash(p) == hash
		}
		if ready {
			s.NumberReady++
		}
		if available {
			s.NumberAvailable++
		}
		if updated {
			s.UpdatedNumberScheduled++
		}
	}
	s.NumberUnavailable = s.DesiredNumberScheduled - s.NumberAvailable
	if ds.Spec.MinReadySeconds > 0 && s.NumberReady > s.NumberAvailable {
		if key, err := cache.MetaNamespaceKeyFunc(ds); err == nil {
			dc.queue.AddAfter(key, time.Duration(ds.Spec.MinReadySeconds)*time.Second)
		}
	}
	return s
}

// updateStatus writes status when it changed, retrying once on a
// conflict with a fresh copy.
func (dc *Controller) updateStatus(ctx context.Context, ds *appsv1.DaemonSet, status appsv1.DaemonSetStatus) error {
	for attempt := 0; ; attempt++ {
		if equality.Semantic.DeepEqual(ds.Status, status) {
			return nil
		}
		ds = ds.DeepCopy()
		ds.Status = status
		_, err := dc.client.AppsV1().DaemonSets(ds.Namespace).UpdateStatus(ctx, ds, metav1.UpdateOptions{})
		if err == nil || apierrors.IsNotFound(err) {
			return nil
		}
		if attempt > 0 || !apierrors.IsConflict(err) {
			return fmt.Errorf("update status of daemonset %s: %w", ds.Name, err)
		}
		fresh, gerr := dc.client.AppsV1().DaemonSets(ds.Namespace).Get(ctx, ds.Name, metav1.GetOptions{})
		if gerr != nil {
			return fmt.Errorf("update status of daemonset %s: %w", ds.Name, gerr)
		}
		if fresh.Generation != status.ObservedGeneration {
			return nil // the spec moved on; the next sync writes a fresh status
		}
		ds = fresh
	}
}

// updateCollisions records a raised collisionCount so the next sync names
// its revision differently.
func (dc *Controller) updateCollisions(ctx context.Context, ds *appsv1.DaemonSet, collisions int32) {
	if collisions == ptrValue(ds.Status.CollisionCount) {
		return
	}
	status := *ds.Status.DeepCopy()
	status.CollisionCount = &collisions
	if err := dc.updateStatus(ctx, ds, status); err != nil {
		dc.log.Warn("record collision count", "daemonset", ds.Name, "err", err)
	}
}
