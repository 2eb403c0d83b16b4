package statefulset

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
	for attempt := 0; ; attempt++ {
		if equality.Semantic.DeepEqual(set.Status, status) {
			return nil
		}
		set = set.DeepCopy()
		set.Status = status
		_, err := sc.client.AppsV1().StatefulSets(set.Namespace).UpdateStatus(ctx, set, metav1.UpdateOptions{})
		if err == nil || apierrors.IsNotFound(err) {
			return nil
		}
		if attempt > 0 || !apierrors.IsConflict(err) {
			return fmt.Errorf("update status of statefulset %s: %w", set.Name, err)
		}
		fresh, gerr := sc.client.AppsV1().StatefulSets(set.Namespace).Get(ctx, set.Name, metav1.GetOptions{})
		if gerr != nil {
			return fmt.Errorf("update status of statefulset %s: %w", set.Name, gerr)
		}
		if fresh.Generation != status.ObservedGeneration {
			return nil // the spec moved on; the next sync writes a fresh status
		}
		set = fresh
	}
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
