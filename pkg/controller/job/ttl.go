package job

import (
	"context"
	"errors"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// syncFinished tends a Job with a terminal condition: pods still holding
// the tracking finalizer lose it (they can no longer change the outcome),
// and once ttlSecondsAfterFinished has passed the Job is deleted with
// background propagation, so the garbage collector removes its pods.
func (jc *Controller) syncFinished(ctx context.Context, job *batchv1.Job, pods []*corev1.Pod) error {
	var errs []error
	for _, p := range pods {
		if hasFinalizer(p) {
			errs = append(errs, jc.removeFinalizer(ctx, p))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	expired, wait := ttlExpired(job, jc.now())
	switch {
	case job.DeletionTimestamp != nil || job.Spec.TTLSecondsAfterFinished == nil:
		return nil
	case !expired:
		jc.queue.EnqueueAfter(job, wait)
		return nil
	}
	// The cache may be old: a fresh read guards against a TTL just raised.
	fresh, err := jc.client.BatchV1().Jobs(job.Namespace).Get(ctx, job.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get job %s: %w", job.Name, err)
	}
	if fresh.UID != job.UID {
		return nil
	}
	if expired, wait := ttlExpired(fresh, jc.now()); !expired {
		if wait > 0 {
			jc.queue.EnqueueAfter(fresh, wait)
		}
		return nil
	}
	err = jc.client.BatchV1().Jobs(job.Namespace).Delete(ctx, job.Name, metav1.DeleteOptions{
		PropagationPolicy: ptr.To(metav1.DeletePropagationBackground),
		Preconditions:     &metav1.Preconditions{UID: &fresh.UID, ResourceVersion: &fresh.ResourceVersion},
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete finished job %s: %w", job.Name, err)
	}
	return nil
}

// ttlExpired reports whether a finished Job's TTL has passed at now, or
// how long is left; a Job without TTL or not finished never expires.
func ttlExpired(job *batchv1.Job, now time.Time) (bool, time.Duration) {
	ttl := job.Spec.TTLSecondsAfterFinished
	if ttl == nil || !isFinished(&job.Status) {
		return false, 0
	}
	var finished time.Time
	for _, t := range []batchv1.JobConditionType{batchv1.JobComplete, batchv1.JobFailed} {
		if c := findCondition(&job.Status, t); c != nil && c.Status == corev1.ConditionTrue {
			finished = c.LastTransitionTime.Time
		}
	}
	left := finished.Add(time.Duration(*ttl) * time.Second).Sub(now)
	return left <= 0, left
}

// releaseOrphan removes the tracking finalizer from a pod whose Job is
// gone, so that the pod's deletion can finish.
func (jc *Controller) releaseOrphan(ctx context.Context, podKey string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(podKey)
	if err != nil {
		return nil
	}
	pod, err := jc.podLister.Pods(ns).Get(name)
	if err != nil || !hasFinalizer(pod) {
		return nil
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != kind.Kind {
		return nil
	}
	job, err := jc.client.BatchV1().Jobs(ns).Get(ctx, ref.Name, metav1.GetOptions{})
	switch {
	case err == nil && job.UID == ref.UID:
		return nil // the cache is behind; the Job's own sync handles the pod
	case err != nil && !apierrors.IsNotFound(err):
		return fmt.Errorf("get job %s: %w", ref.Name, err)
	}
	return jc.removeFinalizer(ctx, pod)
}
