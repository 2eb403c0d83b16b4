package job

import (
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// findCondition returns the condition of type t, or nil.
func findCondition(s *batchv1.JobStatus, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range s.Conditions {
		if s.Conditions[i].Type == t {
			return &s.Conditions[i]
		}
	}
	return nil
}

func conditionTrue(s *batchv1.JobStatus, t batchv1.JobConditionType) bool {
	c := findCondition(s, t)
	return c != nil && c.Status == corev1.ConditionTrue
}

// isFinished reports whether the Job has a terminal condition.
func isFinished(s *batchv1.JobStatus) bool {
	return conditionTrue(s, batchv1.JobComplete) || conditionTrue(s, batchv1.JobFailed)
}

// setCondition sets the condition of type t to status, with reason and
// message, and reports whether anything changed. A False condition is not
// added when absent; a condition already at status is left as it is.
func setCondition(s *batchv1.JobStatus, t batchv1.JobConditionType, status corev1.ConditionStatus, reason, msg string, now time.Time) bool {
	c := findCondition(s, t)
	switch {
	case c == nil && status == corev1.ConditionFalse:
		return false
	case c == nil:
		s.Conditions = append(s.Conditions, batchv1.JobCondition{Type: t, Status: status, Reason: reason, Message: msg,
			LastProbeTime: metav1.NewTime(now), LastTransitionTime: metav1.NewTime(now)})
		return true
	case c.Status == status:
		return false
	}
	c.Status, c.Reason, c.Message = status, reason, msg
	c.LastProbeTime, c.LastTransitionTime = metav1.NewTime(now), metav1.NewTime(now)
	return true
}

// wantActive is how many pods of a NonIndexed Job should be running:
// parallelism, bounded by the completions still missing; a Job without
// completions starts no pod once one succeeded.
func wantActive(job *batchv1.Job, succeeded int32) int32 {
	parallelism := ptr.Deref(job.Spec.Parallelism, 1)
	if job.Spec.Completions == nil {
		if succeeded > 0 {
			return 0
		}
		return parallelism
	}
	return max(0, min(parallelism, *job.Spec.Completions-succeeded))
}

// reachedCompletions reports whether enough pods succeeded: completions,
// or for a Job without completions, one success and nothing running.
func reachedCompletions(job *batchv1.Job, succeeded int32, active int) bool {
	if job.Spec.Completions == nil {
		return succeeded > 0 && active == 0
	}
	return succeeded >= *job.Spec.Completions
}

// exceedsBackoffLimit reports whether failures (plus, under restartPolicy
// OnFailure, the container restarts of running pods) passed backoffLimit.
func exceedsBackoffLimit(job *batchv1.Job, failed int32, active []*corev1.Pod) bool {
	limit := ptr.Deref(job.Spec.BackoffLimit, 6)
	if failed > limit {
		return true
	}
	if job.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		return false
	}
	restarts := failed + restartsOfActive(active)
	if limit == 0 {
		return restarts > 0
	}
	return restarts >= limit
}

// deadlineLeft returns how long the Job may still run before
// activeDeadlineSeconds, and false when it has no deadline or no start.
func deadlineLeft(job *batchv1.Job, start *metav1.Time, now time.Time) (time.Duration, bool) {
	if job.Spec.ActiveDeadlineSeconds == nil || start == nil {
		return 0, false
	}
	end := start.Add(time.Duration(*job.Spec.ActiveDeadlineSeconds) * time.Second)
	return end.Sub(now), true
}
