package job

import (
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// Condition messages, as Kubernetes words them.
const (
	msgBackoffLimit     = "Job has reached the specified backoff limit"
	msgDeadline         = "Job was active longer than specified deadline"
	msgCompletions      = "Reached expected number of succeeded pods"
	msgMaxFailedIndexes = "Job has exceeded the specified maximal number of failed indexes"
	msgFailedIndexes    = "Job has failed indexes"
)

// finishTarget returns the condition (FailureTarget or SuccessCriteriaMet)
// the Job is heading to, setting it on status when new, or nil. Once set,
// a target never changes. The checks, first match wins: a FailJob verdict
// of the podFailurePolicy, backoffLimit, activeDeadlineSeconds, then for
// Indexed Jobs maxFailedIndexes, failed indexes with every index decided,
// the successPolicy, and finally completions.
func (jc *Controller) finishTarget(job *batchv1.Job, status *batchv1.JobStatus, r *round, succeeded, failed int32, now time.Time) *batchv1.JobCondition {
	for _, t := range []batchv1.JobConditionType{batchv1.JobFailureTarget, batchv1.JobSuccessCriteriaMet} {
		if c := findCondition(status, t); c != nil && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	t, reason, msg := failureTarget(job, status, r, failed, now)
	if t == "" {
		t, reason, msg = successTarget(job, r, succeeded)
	}
	if t == "" {
		return nil
	}
	setCondition(status, t, corev1.ConditionTrue, reason, msg, now)
	return findCondition(status, t)
}

// failureTarget returns the reason and message of a FailureTarget the
// Job has reached, or an empty type.
func failureTarget(job *batchv1.Job, status *batchv1.JobStatus, r *round, failed int32, now time.Time) (batchv1.JobConditionType, string, string) {
	ft := batchv1.JobFailureTarget
	if msg, ok := failJobMessage(job, r.pods); ok {
		return ft, batchv1.JobReasonPodFailurePolicy, msg
	}
	if exceedsBackoffLimit(job, failed, r.active) {
		return ft, batchv1.JobReasonBackoffLimitExceeded, msgBackoffLimit
	}
	if left, ok := deadlineLeft(job, status.StartTime, now); ok && left <= 0 && !ptr.Deref(job.Spec.Suspend, false) {
		return ft, batchv1.JobReasonDeadlineExceeded, msgDeadline
	}
	if perIndex(job) {
		if m := job.Spec.MaxFailedIndexes; m != nil && len(r.failedIx) > int(*m) {
			return ft, batchv1.JobReasonMaxFailedIndexesExceeded, msgMaxFailedIndexes
		}
		if len(r.failedIx) > 0 && len(r.failedIx)+len(r.completed) >= int(ptr.Deref(job.Spec.Completions, 0)) {
			return ft, batchv1.JobReasonFailedIndexes, msgFailedIndexes
		}
	}
	return "", "", ""
}

// successTarget returns the reason and message of a SuccessCriteriaMet
// the Job has reached, or an empty type.
func successTarget(job *batchv1.Job, r *round, succeeded int32) (batchv1.JobConditionType, string, string) {
	if indexed(job) {
		if msg, ok := matchSuccessPolicy(job.Spec.SuccessPolicy, int(ptr.Deref(job.Spec.Completions, 0)), r.completed); ok {
			return batchv1.JobSuccessCriteriaMet, batchv1.JobReasonSuccessPolicy, msg
		}
	}
	if reachedCompletions(job, succeeded, len(r.active)) {
		return batchv1.JobSuccessCriteriaMet, batchv1.JobReasonCompletionsReached, msgCompletions
	}
	return "", "", ""
}

// finish turns the target condition into the terminal one.
func (jc *Controller) finish(job *batchv1.Job, status *batchv1.JobStatus, target *batchv1.JobCondition, now time.Time) {
	if target.Type == batchv1.JobSuccessCriteriaMet {
		setCondition(status, batchv1.JobComplete, corev1.ConditionTrue, target.Reason, target.Message, now)
		if status.CompletionTime == nil {
			status.CompletionTime = ptr.To(metav1.NewTime(now))
		}
		jc.events.Event(job, corev1.EventTypeNormal, "Completed", "Job completed")
	} else {
		setCondition(status, batchv1.JobFailed, corev1.ConditionTrue, target.Reason, target.Message, now)
		jc.events.Event(job, corev1.EventTypeWarning, target.Reason, target.Message)
	}
	status.Active, status.Ready = 0, ptr.To[int32](0)
	if ttl := job.Spec.TTLSecondsAfterFinished; ttl != nil {
		jc.queue.EnqueueAfter(job, time.Duration(*ttl)*time.Second)
	}
}
