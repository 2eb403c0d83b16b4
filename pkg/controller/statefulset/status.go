package statefulset

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

// calculateStatus counts the set's pods. Once every pod runs the update
// revision and is ready, the update revision becomes the current one.
func (sc *Controller) calculateStatus(set *appsv1.StatefulSet, pods []*corev1.Pod, current, update string,
	collisions int32, now time.Time) appsv1.StatefulSetStatus {
	s := appsv1.StatefulSetStatus{
		ObservedGeneration: set.Generation,
		CurrentRevision:    current,
		UpdateRevision:     update,
		CollisionCount:     &collisions,
		Conditions:         set.Status.Conditions,
	}
	for _, p := range pods {
		if Ordinal(set, p) < 0 {
			continue
		}
		s.Replicas++
		if runningAndReady(p) {
			s.ReadyReplicas++
			if replicaset.IsPodAvailable(p, set.Spec.MinReadySeconds, now) {
				s.AvailableReplicas++
			}
		}
		if isTerminating(p) {
			continue
		}
		if revisionOf(p) == current {
			s.CurrentReplicas++
		}
		if revisionOf(p) == update {
			s.UpdatedReplicas++
		}
	}
	if s.UpdatedReplicas == s.Replicas && s.ReadyReplicas == s.Replicas && s.Replicas == int32(desiredReplicas(set)) {
		s.CurrentRevision = update
		s.CurrentReplicas = s.UpdatedReplicas
	}
	if set.Spec.MinReadySeconds > 0 && s.ReadyReplicas > s.AvailableReplicas {
		if key, err := cache.MetaNamespaceKeyFunc(set); err == nil {
			sc.queue.AddAfter(key, time.Duration(set.Spec.MinReadySeconds)*time.Second)
		}
	}
	return s
}

// updateStatus writes status when it changed, retrying once on a
// conflict with a fresh copy.
func (sc *Controller) updateStatus(ctx context.Context, set *appsv1.StatefulSet, status appsv1.StatefulSetStatus) error {
	api := sc.client.AppsV1().StatefulSets(set.Namespace)
	return controller.UpdateStatus(ctx, "statefulset "+set.Name, set, controller.StatusWrite[*appsv1.StatefulSet]{
		Unchanged: func(s *appsv1.StatefulSet) bool { return equality.Semantic.DeepEqual(s.Status, status) },
		With: func(s *appsv1.StatefulSet) *appsv1.StatefulSet {
			s = s.DeepCopy()
			s.Status = status
			return s
		},
		Update: func(ctx context.Context, s *appsv1.StatefulSet) error {
			_, err := api.UpdateStatus(ctx, s, metav1.UpdateOptions{})
			return err
		},
		Get: func(ctx context.Context) (*appsv1.StatefulSet, error) {
			return api.Get(ctx, set.Name, metav1.GetOptions{})
		},
		Current: func(s *appsv1.StatefulSet) bool { return s.Generation == status.ObservedGeneration },
	})
}

// recordCollisions stores a raised collisionCount so the next sync names
// its revision differently.
func (sc *Controller) recordCollisions(ctx context.Context, set *appsv1.StatefulSet, collisions int32) {
	if collisions == ptrValue(set.Status.CollisionCount) {
		return
	}
	status := *set.Status.DeepCopy()
	status.CollisionCount = &collisions
	if err := sc.updateStatus(ctx, set, status); err != nil {
		sc.log.Warn("record collision count", "statefulset", set.Name, "err", err)
	}
}
