package daemonset

import (
	"context"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/tugcluster/tug/pkg/controller/replicaset"

	"github.com/tugcluster/tug/pkg/controller"
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
	api := dc.client.AppsV1().DaemonSets(ds.Namespace)
	return controller.UpdateStatus(ctx, "daemonset "+ds.Name, ds, controller.StatusWrite[*appsv1.DaemonSet]{
		Unchanged: func(d *appsv1.DaemonSet) bool { return equality.Semantic.DeepEqual(d.Status, status) },
		With: func(d *appsv1.DaemonSet) *appsv1.DaemonSet {
			d = d.DeepCopy()
			d.Status = status
			return d
		},
		Update: func(ctx context.Context, d *appsv1.DaemonSet) error {
			_, err := api.UpdateStatus(ctx, d, metav1.UpdateOptions{})
			return err
		},
		Get: func(ctx context.Context) (*appsv1.DaemonSet, error) {
			return api.Get(ctx, ds.Name, metav1.GetOptions{})
		},
		Current: func(d *appsv1.DaemonSet) bool { return d.Generation == status.ObservedGeneration },
	})
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
