package job

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/pkg/controller"
	"github.com/tugcluster/tug/pkg/controller/replicaset"
)

// round is what one sync learned about a Job's pods.
type round struct {
	job       *batchv1.Job
	pods      []*corev1.Pod
	active    []*corev1.Pod // pending or running, not terminating
	completed indexSet      // Indexed Jobs: completed indexes, counted or not
	failedIx  indexSet      // backoffLimitPerIndex: failed indexes, never retried
	// release are finished pods holding the finalizer that count for
	// nothing (a second success of an index, a success of a failed index,
	// a failure the podFailurePolicy ignores); their finalizer just goes.
	release []*corev1.Pod
}

func (jc *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	cached, err := jc.jobLister.Jobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		jc.expectations.Forget(key)
		return nil
	}
	if err != nil {
		return fmt.Errorf("get job %s: %w", key, err)
	}
	if m := cached.Spec.ManagedBy; m != nil && *m != batchv1.JobControllerName {
		return nil
	}
	job := cached.DeepCopy()
	pods, err := jc.claimPods(ctx, job)
	if err != nil {
		return err
	}
	if isFinished(&job.Status) {
		return jc.syncFinished(ctx, job, pods)
	}
	satisfied := jc.expectations.Satisfied(key)
	now := jc.now()
	r := jc.observe(job, pods)
	status := job.Status.DeepCopy()
	if status.UncountedTerminatedPods == nil {
		status.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{}
	}
	unc := status.UncountedTerminatedPods
	// Once the Job is failing, pods it deleted count as failed even where
	// terminating pods otherwise wait for the Failed phase.
	failing := conditionTrue(status, batchv1.JobFailureTarget)
	failedPod := func(p *corev1.Pod) bool { return podFailed(p, job) || (failing && podTerminating(p)) }
	for _, p := range pods {
		if !hasFinalizer(p) || !(p.Status.Phase == corev1.PodSucceeded || failedPod(p)) || jc.releases.counted(p.UID) ||
			slices.Contains(unc.Succeeded, p.UID) || slices.Contains(unc.Failed, p.UID) {
			continue
		}
		switch {
		case failedPod(p) && !judge(job, p).counts():
			// Ignored by the podFailurePolicy: released, never counted.
			r.release = append(r.release, p)
		case failedPod(p):
			unc.Failed = append(unc.Failed, p.UID)
		case !indexed(job):
			unc.Succeeded = append(unc.Succeeded, p.UID)
		default:
			ix := podIndex(p)
			if ix < 0 || ix >= int(ptr.Deref(job.Spec.Completions, 0)) || r.completed[ix] || r.failedIx[ix] {
				r.release = append(r.release, p)
				continue
			}
			r.completed[ix] = true
			unc.Succeeded = append(unc.Succeeded, p.UID)
		}
	}
	if indexed(job) {
		status.CompletedIndexes = r.completed.String()
	}
	if perIndex(job) {
		status.FailedIndexes = ptr.To(r.failedIx.String())
	}
	succeeded := status.Succeeded + int32(len(unc.Succeeded))
	failed := status.Failed + int32(len(unc.Failed))
	suspended := ptr.Deref(job.Spec.Suspend, false)
	if status.StartTime == nil && !suspended {
		status.StartTime = ptr.To(metav1.NewTime(now))
	}

	var manageErr error
	created, deleted := 0, 0
	target := jc.finishTarget(job, status, r, succeeded, failed, now)
	switch {
	case target != nil:
		// Stop what still runs; the terminal condition follows once
		// every pod is gone and counted.
		deleted, manageErr = jc.deletePods(ctx, key, job, r.active, target.Type == batchv1.JobFailureTarget)
	case suspended:
		if setCondition(status, batchv1.JobSuspended, corev1.ConditionTrue, "JobSuspended", "Job suspended", now) {
			jc.events.Event(job, corev1.EventTypeNormal, "Suspended", "Job suspended")
		}
		deleted, manageErr = jc.deletePods(ctx, key, job, r.active, false)
	default:
		if setCondition(status, batchv1.JobSuspended, corev1.ConditionFalse, "JobResumed", "Job resumed", now) {
			jc.events.Event(job, corev1.EventTypeNormal, "Resumed", "Job resumed")
			// A resumed Job's deadline counts from the resumption.
			status.StartTime = ptr.To(metav1.NewTime(now))
		}
		if left, ok := deadlineLeft(job, status.StartTime, now); ok {
			jc.queue.EnqueueAfter(job, left+10*time.Millisecond)
		}
		if satisfied && job.DeletionTimestamp == nil {
			created, deleted, manageErr = jc.manage(ctx, key, r, succeeded, now)
		}
	}

	status.Active = int32(len(r.active) + created - deleted)
	var ready, terminating int32
	for _, p := range r.active {
		if replicaset.IsPodReady(p) {
			ready++
		}
	}
	for _, p := range pods {
		if podTerminating(p) {
			terminating++
		}
	}
	status.Ready, status.Terminating = ptr.To(min(ready, status.Active)), ptr.To(terminating+int32(deleted))

	job, err = jc.writeStatus(ctx, job, status)
	if err != nil {
		return errors.Join(manageErr, err)
	}
	// The UIDs are recorded: the finalizers may go, then the counters move.
	status = job.Status.DeepCopy()
	released, relErr := jc.removeFinalizers(ctx, pods, r.release, status.UncountedTerminatedPods)
	moveCounted(status, released)
	if target != nil && status.Active == 0 && terminating == 0 && deleted == 0 &&
		len(status.UncountedTerminatedPods.Succeeded)+len(status.UncountedTerminatedPods.Failed) == 0 {
		jc.finish(job, status, target, now)
	}
	if _, err := jc.writeStatus(ctx, job, status); err != nil {
		return errors.Join(manageErr, relErr, err)
	}
	return errors.Join(manageErr, relErr)
}

func indexed(job *batchv1.Job) bool {
	return ptr.Deref(job.Spec.CompletionMode, batchv1.NonIndexedCompletion) == batchv1.IndexedCompletion
}

// observe sorts the Job's pods.
func (jc *Controller) observe(job *batchv1.Job, pods []*corev1.Pod) *round {
	r := &round{job: job, pods: pods, completed: indexSet{}, failedIx: indexSet{}}
	if indexed(job) {
		r.completed = parseIndexes(job.Status.CompletedIndexes, int(ptr.Deref(job.Spec.Completions, 0)))
	}
	if perIndex(job) {
		r.failedIx = failedIndexSet(job, pods)
	}
	for _, p := range pods {
		if replicaset.IsPodActive(p) {
			r.active = append(r.active, p)
		}
	}
	return r
}

// moveCounted moves the UIDs whose finalizer is gone from
// uncountedTerminatedPods into the succeeded and failed counters.
func moveCounted(status *batchv1.JobStatus, released map[types.UID]bool) {
	unc := status.UncountedTerminatedPods
	keep := func(uids []types.UID) ([]types.UID, int32) {
		var rest []types.UID
		var moved int32
		for _, u := range uids {
			if released[u] {
				moved++
			} else {
				rest = append(rest, u)
			}
		}
		return rest, moved
	}
	var n int32
	unc.Succeeded, n = keep(unc.Succeeded)
	status.Succeeded += n
	unc.Failed, n = keep(unc.Failed)
	status.Failed += n
}

// writeStatus stores status when it differs from job's.
func (jc *Controller) writeStatus(ctx context.Context, job *batchv1.Job, status *batchv1.JobStatus) (*batchv1.Job, error) {
	if equality.Semantic.DeepEqual(job.Status, *status) {
		return job, nil
	}
	job = job.DeepCopy()
	job.Status = *status
	updated, err := jc.client.BatchV1().Jobs(job.Namespace).UpdateStatus(ctx, job, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("update status of job %s: %w", job.Name, err)
	}
	return updated, nil
}

// claimPods returns the pods the Job controls, adopting matching orphans.
func (jc *Controller) claimPods(ctx context.Context, job *batchv1.Job) ([]*corev1.Pod, error) {
	selector, err := metav1.LabelSelectorAsSelector(job.Spec.Selector)
	if err != nil || selector.Empty() {
		return nil, nil // validation keeps such Jobs out
	}
	return replicaset.ClaimPods(ctx, jc.client, jc.podIndexer, job, kind, selector, nil, func(ctx context.Context) error {
		fresh, err := jc.client.BatchV1().Jobs(job.Namespace).Get(ctx, job.Name, metav1.GetOptions{})
		return controller.RecheckOwner("Job", job, fresh, err)
	})
}
