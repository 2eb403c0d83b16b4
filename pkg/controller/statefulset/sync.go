package statefulset

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/tugcluster/tug/pkg/controller"
	"github.com/tugcluster/tug/pkg/controller/history"
	"github.com/tugcluster/tug/pkg/controller/replicaset"
)

func (sc *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	set, err := sc.setLister.StatefulSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get statefulset %s: %w", key, err)
	}
	selector, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
	if err != nil || selector.Empty() || set.DeletionTimestamp != nil {
		return nil
	}
	pods, err := sc.claimPods(ctx, set, selector)
	if err != nil {
		return err
	}
	canAdopt := func(ctx context.Context) error { return sc.canAdopt(ctx, set) }
	revs, err := sc.history.Owned(ctx, sc.revisions, set, kind, selector, canAdopt)
	if err != nil {
		return err
	}
	collisions := ptrValue(set.Status.CollisionCount)
	update, revs, err := sc.history.Resolve(ctx, set, kind, &set.Spec.Template, revs, &collisions)
	if err != nil {
		sc.recordCollisions(ctx, set, collisions)
		return err
	}
	current := update
	for _, r := range revs {
		if r.Name == set.Status.CurrentRevision {
			current = r
		}
	}
	currentTemplate, err := history.Template(current)
	if err != nil {
		return err
	}
	now := sc.now()
	steps := plan(set, pods, update.Name, now)
	stepErr := sc.apply(ctx, set, steps, current.Name, currentTemplate, update.Name)
	claimErr := sc.syncClaimOwners(ctx, set, pods)
	histErr := sc.cleanupHistory(ctx, set, pods, current, update, revs)
	status := sc.calculateStatus(set, pods, current.Name, update.Name, collisions, now)
	statusErr := sc.updateStatus(ctx, set, status)
	return errors.Join(stepErr, claimErr, histErr, statusErr)
}

func ptrValue(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

// claimPods returns the pods set controls, adopting and releasing as the
// selector says.
func (sc *Controller) claimPods(ctx context.Context, set *appsv1.StatefulSet, selector labels.Selector) ([]*corev1.Pod, error) {
	return replicaset.ClaimPods(ctx, sc.client, sc.podIndexer, set, kind, selector, nil,
		func(ctx context.Context) error { return sc.canAdopt(ctx, set) })
}

// canAdopt rechecks with a live read that set may still adopt.
func (sc *Controller) canAdopt(ctx context.Context, set *appsv1.StatefulSet) error {
	fresh, err := sc.client.AppsV1().StatefulSets(set.Namespace).Get(ctx, set.Name, metav1.GetOptions{})
	return controller.RecheckOwner("StatefulSet", set, fresh, err)
}

// apply carries out the planned steps, concurrently (Parallel sets plan
// many; OrderedReady sets plan at most one pod change).
func (sc *Controller) apply(ctx context.Context, set *appsv1.StatefulSet, steps []step, currentRev string,
	currentTemplate *corev1.PodTemplateSpec, updateRev string) error {
	errs := make([]error, len(steps))
	var wg sync.WaitGroup
	for i, s := range steps {
		wg.Go(func() {
			switch s.kind {
			case stepCreate:
				tpl, rev := &set.Spec.Template, updateRev
				if s.current {
					tpl, rev = currentTemplate, currentRev
				}
				errs[i] = sc.createPod(ctx, set, newPod(set, tpl, rev, s.ordinal), s.ordinal)
			case stepFixIdentity:
				errs[i] = sc.fixIdentity(ctx, s.pod, s.ordinal)
			case stepRecreate:
				sc.events.Eventf(set, corev1.EventTypeWarning, "RecreatingFailedPod",
					"StatefulSet %s/%s is recreating failed Pod %s", set.Namespace, set.Name, s.pod.Name)
				errs[i] = sc.deletePod(ctx, set, s.pod)
			case stepScaleDown:
				if err := sc.releaseClaimsOnScaleDown(ctx, set, s.pod, s.ordinal); err != nil {
					errs[i] = err
					return
				}
				errs[i] = sc.deletePod(ctx, set, s.pod)
			case stepUpdate:
				errs[i] = sc.deletePod(ctx, set, s.pod)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (sc *Controller) createPod(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod, ordinal int) error {
	if err := sc.createClaims(ctx, set, pod, ordinal); err != nil {
		return err
	}
	_, err := sc.client.CoreV1().Pods(set.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	switch {
	case err == nil:
		sc.events.Eventf(set, corev1.EventTypeNormal, "SuccessfulCreate", "create Pod %s in StatefulSet %s successful", pod.Name, set.Name)
		return nil
	case apierrors.IsAlreadyExists(err):
		// The old pod of that name is still going away.
		return fmt.Errorf("create pod %s: %w", pod.Name, controller.ErrRequeue)
	default:
		sc.events.Eventf(set, corev1.EventTypeWarning, "FailedCreate", "create Pod %s in StatefulSet %s failed error: %v", pod.Name, set.Name, err)
		return fmt.Errorf("create pod %s: %w", pod.Name, err)
	}
}

func (sc *Controller) deletePod(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod) error {
	err := sc.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &pod.UID}})
	switch {
	case err == nil:
		sc.events.Eventf(set, corev1.EventTypeNormal, "SuccessfulDelete", "delete Pod %s in StatefulSet %s successful", pod.Name, set.Name)
		return nil
	case apierrors.IsNotFound(err), apierrors.IsConflict(err):
		return nil
	default:
		sc.events.Eventf(set, corev1.EventTypeWarning, "FailedDelete", "delete Pod %s in StatefulSet %s failed error: %v", pod.Name, set.Name, err)
		return fmt.Errorf("delete pod %s: %w", pod.Name, err)
	}
}

// fixIdentity restores the identity labels of a pod.
func (sc *Controller) fixIdentity(ctx context.Context, pod *corev1.Pod, ordinal int) error {
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%q,%q:%q}}}`, PodNameLabel, pod.Name, PodIndexLabel, strconv.Itoa(ordinal))
	_, err := sc.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("label pod %s: %w", pod.Name, err)
	}
	return nil
}

// cleanupHistory deletes the revisions beyond revisionHistoryLimit that
// are neither current, update, nor run by a pod.
func (sc *Controller) cleanupHistory(ctx context.Context, set *appsv1.StatefulSet, pods []*corev1.Pod,
	current, update *appsv1.ControllerRevision, revs []*appsv1.ControllerRevision) error {
	live := map[string]bool{current.Name: true, update.Name: true}
	for _, p := range pods {
		live[revisionOf(p)] = true
	}
	limit := 10
	if set.Spec.RevisionHistoryLimit != nil {
		limit = int(*set.Spec.RevisionHistoryLimit)
	}
	var errs []error
	for _, r := range history.Stale(revs, live, limit) {
		errs = append(errs, sc.history.Delete(ctx, r))
	}
	return errors.Join(errs...)
}
