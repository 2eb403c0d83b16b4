package replicaset

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/tugcluster/tug/pkg/controller"
)

func (rc *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	rs, err := rc.rsLister.ReplicaSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		rc.expectations.Forget(key)
		return nil
	}
	if err != nil {
		return fmt.Errorf("get replicaset %s: %w", key, err)
	}
	selector, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil || selector.Empty() {
		return nil // validation keeps such objects out; nothing sensible to do
	}
	needsSync := rc.expectations.Satisfied(key)
	pods, err := ClaimPods(ctx, rc.client, rc.podIndexer, rs, kind, selector, IsPodActive,
		func(ctx context.Context) error { return rc.canAdopt(ctx, rs) })
	if err != nil {
		return err
	}
	var manageErr error
	if needsSync && rs.DeletionTimestamp == nil {
		manageErr = rc.manageReplicas(ctx, key, pods, rs)
	}
	rs = rs.DeepCopy()
	status := calculateStatus(rs, pods, manageErr, rc.now())
	updated, err := rc.updateStatus(ctx, rs, status)
	if err != nil {
		return errors.Join(manageErr, err)
	}
	if manageErr == nil && updated.Spec.MinReadySeconds > 0 &&
		updated.Status.ReadyReplicas == *updated.Spec.Replicas && updated.Status.AvailableReplicas != *updated.Spec.Replicas {
		rc.queue.EnqueueAfter(updated, time.Duration(updated.Spec.MinReadySeconds)*time.Second)
	}
	return manageErr
}

// canAdopt rechecks with a live read that rs may still adopt.
func (rc *Controller) canAdopt(ctx context.Context, rs *appsv1.ReplicaSet) error {
	fresh, err := rc.client.AppsV1().ReplicaSets(rs.Namespace).Get(ctx, rs.Name, metav1.GetOptions{})
	return controller.RecheckOwner("ReplicaSet", rs, fresh, err)
}

// manageReplicas creates or deletes pods so that len(pods) reaches
// spec.replicas.
func (rc *Controller) manageReplicas(ctx context.Context, key string, pods []*corev1.Pod, rs *appsv1.ReplicaSet) error {
	diff := len(pods) - int(*rs.Spec.Replicas)
	switch {
	case diff < 0:
		n := min(-diff, burstReplicas)
		rc.expectations.Expect(key, n, nil)
		created, err := slowStartBatch(n, 1, func() error { return rc.createPod(ctx, rs) })
		// The pods never created will never be observed.
		for range n - created {
			rc.expectations.CreationObserved(key)
		}
		return err
	case diff > 0:
		victims := podsToDelete(pods, min(diff, burstReplicas))
		keys := make([]string, len(victims))
		for i, p := range victims {
			keys[i], _ = cache.MetaNamespaceKeyFunc(p)
		}
		rc.expectations.Expect(key, 0, keys)
		var wg sync.WaitGroup
		errs := make([]error, len(victims))
		for i, p := range victims {
			wg.Go(func() {
				err := rc.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{
					Preconditions: &metav1.Preconditions{UID: &p.UID}})
				switch {
				case err == nil:
					rc.events.Eventf(rs, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %s", p.Name)
				case apierrors.IsNotFound(err):
					rc.expectations.DeletionObserved(key, keys[i])
				default:
					rc.expectations.DeletionObserved(key, keys[i])
					rc.events.Eventf(rs, corev1.EventTypeWarning, "FailedDelete", "Error deleting: %v", err)
					errs[i] = fmt.Errorf("delete pod %s: %w", p.Name, err)
				}
			})
		}
		wg.Wait()
		return errors.Join(errs...)
	}
	return nil
}

func (rc *Controller) createPod(ctx context.Context, rs *appsv1.ReplicaSet) error {
	pod := PodFromTemplate(&rs.Spec.Template, rs, kind)
	created, err := rc.client.CoreV1().Pods(rs.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		rc.events.Eventf(rs, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
		return fmt.Errorf("create pod for %s: %w", rs.Name, err)
	}
	rc.events.Eventf(rs, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %s", created.Name)
	return nil
}

// PodFromTemplate builds the pod a controller creates from its template:
// named <owner>-<5 random> by the API server, with the template's labels,
// annotations, finalizers and spec, controlled by owner.
func PodFromTemplate(t *corev1.PodTemplateSpec, owner metav1.Object, kind metav1.TypeMeta) *corev1.Pod {
	t = t.DeepCopy()
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName:    owner.GetName() + "-",
			Namespace:       owner.GetNamespace(),
			Labels:          t.Labels,
			Annotations:     t.Annotations,
			Finalizers:      t.Finalizers,
			OwnerReferences: []metav1.OwnerReference{ControllerRef(owner, kind)},
		},
		Spec: t.Spec,
	}
}

// slowStartBatch calls fn count times in batches of growing size (initial,
// then doubling), each batch concurrently, and stops after the first batch
// with a failure, so an error that hits every call (quota, a bad template)
// is tried a handful of times instead of count times. It returns the
// number of successful calls and the first error.
func slowStartBatch(count, initial int, fn func() error) (int, error) {
	remaining, successes := count, 0
	for batch := min(remaining, initial); batch > 0; batch = min(2*batch, remaining) {
		errs := make(chan error, batch)
		var wg sync.WaitGroup
		for range batch {
			wg.Go(func() {
				if err := fn(); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		successes += batch - len(errs)
		if len(errs) > 0 {
			return successes, <-errs
		}
		remaining -= batch
	}
	return successes, nil
}

// updateStatus writes status when it differs from what rs has, retrying
// once on a conflict with a fresh copy.
func (rc *Controller) updateStatus(ctx context.Context, rs *appsv1.ReplicaSet, status appsv1.ReplicaSetStatus) (*appsv1.ReplicaSet, error) {
	status.ObservedGeneration = rs.Generation
	for attempt := 0; ; attempt++ {
		if statusEqual(rs.Status, status) {
			return rs, nil
		}
		rs.Status = status
		updated, err := rc.client.AppsV1().ReplicaSets(rs.Namespace).UpdateStatus(ctx, rs, metav1.UpdateOptions{})
		if err == nil {
			return updated, nil
		}
		if attempt > 0 || !apierrors.IsConflict(err) {
			return nil, fmt.Errorf("update status of %s: %w", rs.Name, err)
		}
		fresh, gerr := rc.client.AppsV1().ReplicaSets(rs.Namespace).Get(ctx, rs.Name, metav1.GetOptions{})
		if gerr != nil {
			return nil, fmt.Errorf("update status of %s: %w", rs.Name, errors.Join(err, gerr))
		}
		rs = fresh
		status.ObservedGeneration = rs.Generation
	}
}
