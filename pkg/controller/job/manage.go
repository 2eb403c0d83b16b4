package job

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// burstPods caps the pods created or deleted in one sync.
const burstPods = 500

// removeFinalizerPatch drops the tracking finalizer and nothing else.
var removeFinalizerPatch = []byte(fmt.Sprintf(`{"metadata":{"$deleteFromPrimitiveList/finalizers":[%q]}}`, batchv1.JobTrackingFinalizer))

// manage creates or deletes pods so that the Job runs as many as it
// should; it returns how many it created and deleted.
func (jc *Controller) manage(ctx context.Context, key string, r *round, succeeded int32, now time.Time) (int, int, error) {
	job := r.job
	var surplus []*corev1.Pod
	var indexes []int
	var waiting indexSet
	if perIndex(job) {
		// Each index backs off on its own failures; the others go on.
		var wait time.Duration
		if waiting, wait = indexesInBackoff(job, r.pods, union(r.completed, r.failedIx), now); wait > 0 {
			jc.queue.EnqueueAfter(job, wait)
		}
	}
	if indexed(job) {
		surplus, indexes = planIndexed(job, r, waiting)
	} else {
		want := int(wantActive(job, succeeded))
		if n := len(r.active) - want; n > 0 {
			surplus = append([]*corev1.Pod(nil), r.active...)
			deletionOrder(surplus)
			surplus = surplus[:n]
		} else {
			indexes = make([]int, min(-n, burstPods))
			for i := range indexes {
				indexes[i] = -1
			}
		}
	}
	if len(surplus) > 0 {
		deleted, err := jc.deletePods(ctx, key, job, surplus, false)
		return 0, deleted, err
	}
	if len(indexes) == 0 {
		return 0, 0, nil
	}
	if !perIndex(job) {
		if wait := creationBackoff(r.pods, job, now); wait > 0 {
			jc.queue.EnqueueAfter(job, wait)
			return 0, 0, nil
		}
	}
	created, err := jc.createPods(ctx, key, job, newPods(job, r.pods, indexes))
	return created, 0, err
}

// newPods builds the pods to create for indexes (-1: NonIndexed). Pods
// of a per-index Job carry their index's failure counts.
func newPods(job *batchv1.Job, pods []*corev1.Pod, indexes []int) []*corev1.Pod {
	var replaced map[int]*corev1.Pod
	if perIndex(job) {
		replaced = lastFailedByIndex(job, pods)
	}
	out := make([]*corev1.Pod, len(indexes))
	for i, ix := range indexes {
		out[i] = newPod(job, ix)
		if perIndex(job) {
			annotateFailureCounts(out[i], job, replaced[ix])
		}
	}
	return out
}

// planIndexed returns the pods of an Indexed Job to delete (no valid
// index, a completed or failed index, a second pod of an index, or beyond
// parallelism) and the indexes to start: the lowest neither completed,
// failed, running nor waiting out a back-off.
func planIndexed(job *batchv1.Job, r *round, waiting indexSet) ([]*corev1.Pod, []int) {
	completions := int(ptr.Deref(job.Spec.Completions, 0))
	running := indexSet{}
	var keep, surplus []*corev1.Pod
	for _, p := range r.active {
		ix := podIndex(p)
		if ix < 0 || ix >= completions || r.completed[ix] || r.failedIx[ix] || running[ix] {
			surplus = append(surplus, p)
			continue
		}
		running[ix] = true
		keep = append(keep, p)
	}
	parallelism := int(ptr.Deref(job.Spec.Parallelism, 1))
	if n := len(keep) - parallelism; n > 0 {
		deletionOrder(keep)
		surplus = append(surplus, keep[:n]...)
		return surplus, nil
	}
	if len(surplus) > 0 {
		return surplus, nil
	}
	skip := union(r.completed, r.failedIx, waiting)
	return nil, missingIndexes(completions, skip, running, min(parallelism-len(keep), burstPods))
}

// createPods creates pods, all at once, and returns how many were
// created.
func (jc *Controller) createPods(ctx context.Context, key string, job *batchv1.Job, pods []*corev1.Pod) (int, error) {
	jc.expectations.Expect(key, len(pods), nil)
	var wg sync.WaitGroup
	errs := make([]error, len(pods))
	for i, p := range pods {
		wg.Go(func() {
			pod, err := jc.client.CoreV1().Pods(job.Namespace).Create(ctx, p, metav1.CreateOptions{})
			if err != nil {
				jc.expectations.CreationObserved(key) // never coming
				jc.events.Eventf(job, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
				errs[i] = fmt.Errorf("create pod for job %s: %w", job.Name, err)
				return
			}
			jc.events.Eventf(job, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %s", pod.Name)
		})
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		if err == nil {
			created++
		}
	}
	return created, errors.Join(errs...)
}

// deletePods deletes pods and returns how many went. Unless keepFinalizer,
// the tracking finalizer is removed first, so the pods do not count as
// failures.
func (jc *Controller) deletePods(ctx context.Context, key string, job *batchv1.Job, pods []*corev1.Pod, keepFinalizer bool) (int, error) {
	if len(pods) == 0 {
		return 0, nil
	}
	pods = pods[:min(len(pods), burstPods)]
	uids := make([]types.UID, len(pods))
	for i, p := range pods {
		uids[i] = p.UID
	}
	jc.expectations.Expect(key, 0, uids)
	var wg sync.WaitGroup
	errs := make([]error, len(pods))
	for i, p := range pods {
		wg.Go(func() {
			err := jc.deletePod(ctx, p, keepFinalizer)
			switch {
			case err == nil:
				jc.events.Eventf(job, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %s", p.Name)
			case apierrors.IsNotFound(err):
				jc.expectations.DeletionObserved(key, p.UID)
			default:
				jc.expectations.DeletionObserved(key, p.UID)
				jc.events.Eventf(job, corev1.EventTypeWarning, "FailedDelete", "Error deleting: %v", err)
				errs[i] = fmt.Errorf("delete pod %s: %w", p.Name, err)
			}
		})
	}
	wg.Wait()
	deleted := 0
	for _, err := range errs {
		if err == nil {
			deleted++
		}
	}
	return deleted, errors.Join(errs...)
}

func (jc *Controller) deletePod(ctx context.Context, p *corev1.Pod, keepFinalizer bool) error {
	if !keepFinalizer && hasFinalizer(p) {
		if err := jc.removeFinalizer(ctx, p); err != nil {
			return err
		}
	}
	return jc.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &p.UID}})
}

func (jc *Controller) removeFinalizer(ctx context.Context, p *corev1.Pod) error {
	jc.releases.issued(p.UID)
	_, err := jc.client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, removeFinalizerPatch, metav1.PatchOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		jc.releases.seen(p.UID)
		return fmt.Errorf("remove finalizer of pod %s: %w", p.Name, err)
	}
	return nil
}

// removeFinalizers releases the pods recorded in unc and the extra pods
// in release, and returns the recorded UIDs whose finalizer is gone
// (including pods that no longer exist or already lost it).
func (jc *Controller) removeFinalizers(ctx context.Context, pods, release []*corev1.Pod, unc *batchv1.UncountedTerminatedPods) (map[types.UID]bool, error) {
	byUID := make(map[types.UID]*corev1.Pod, len(pods))
	for _, p := range pods {
		byUID[p.UID] = p
	}
	gone := map[types.UID]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []error
	for _, uid := range append(append([]types.UID(nil), unc.Succeeded...), unc.Failed...) {
		p, ok := byUID[uid]
		if !ok || !hasFinalizer(p) {
			gone[uid] = true
			continue
		}
		wg.Go(func() {
			err := jc.removeFinalizer(ctx, p)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			gone[uid] = true
		})
	}
	for _, p := range release {
		wg.Go(func() {
			if err := jc.removeFinalizer(ctx, p); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return gone, errors.Join(errs...)
}
