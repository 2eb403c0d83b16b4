package job

import (
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// perIndex reports whether the Job counts failures per completion index
// (spec.backoffLimitPerIndex on an Indexed Job).
func perIndex(job *batchv1.Job) bool {
	return indexed(job) && job.Spec.BackoffLimitPerIndex != nil
}

// annotationCount reads a non-negative count annotation of pod; absent
// or malformed values read as 0.
func annotationCount(pod *corev1.Pod, key string) int32 {
	v, ok := pod.Annotations[key]
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n < 0 {
		return 0
	}
	return int32(n)
}

// indexFailed reports whether pod's failure fails its index: the
// podFailurePolicy says FailIndex, or the failure counts and the index
// had already failed backoffLimitPerIndex times before this pod.
func indexFailed(job *batchv1.Job, pod *corev1.Pod) bool {
	if !podFailed(pod, job) {
		return false
	}
	v := judge(job, pod)
	if v.action == batchv1.PodFailurePolicyActionFailIndex {
		return true
	}
	return v.counts() && annotationCount(pod, batchv1.JobIndexFailureCountAnnotation) >= ptr.Deref(job.Spec.BackoffLimitPerIndex, 0)
}

// failedIndexSet returns the failed indexes of a per-index Job: those
// recorded in status.failedIndexes plus those failed by its pods.
func failedIndexSet(job *batchv1.Job, pods []*corev1.Pod) indexSet {
	completions := int(ptr.Deref(job.Spec.Completions, 0))
	out := parseIndexes(ptr.Deref(job.Status.FailedIndexes, ""), completions)
	for _, p := range pods {
		if ix := podIndex(p); ix >= 0 && ix < completions && indexFailed(job, p) {
			out[ix] = true
		}
	}
	return out
}

// lastFailedByIndex returns, per index, the failed pod that finished
// last: the pod a new pod of that index replaces.
func lastFailedByIndex(job *batchv1.Job, pods []*corev1.Pod) map[int]*corev1.Pod {
	out := map[int]*corev1.Pod{}
	for _, p := range pods {
		ix := podIndex(p)
		if ix < 0 || !podFailed(p, job) {
			continue
		}
		if prev, ok := out[ix]; !ok || finishTime(p).After(finishTime(prev)) {
			out[ix] = p
		}
	}
	return out
}

// annotateFailureCounts stamps a new pod of a per-index Job with the
// failures of its index so far: the replaced pod's counts plus its own
// failure, counted or ignored as the podFailurePolicy says. The failure
// count is always present; the ignored count only once non-zero.
func annotateFailureCounts(pod *corev1.Pod, job *batchv1.Job, replaced *corev1.Pod) {
	var failures, ignored int32
	if replaced != nil {
		failures = annotationCount(replaced, batchv1.JobIndexFailureCountAnnotation)
		ignored = annotationCount(replaced, batchv1.JobIndexIgnoredFailureCountAnnotation)
		if judge(job, replaced).counts() {
			failures++
		} else {
			ignored++
		}
	}
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[batchv1.JobIndexFailureCountAnnotation] = strconv.Itoa(int(failures))
	if ignored > 0 {
		pod.Annotations[batchv1.JobIndexIgnoredFailureCountAnnotation] = strconv.Itoa(int(ignored))
	}
}

// indexesInBackoff returns the indexes of a per-index Job, other than
// the settled ones, whose pod creation must still wait at now (each index
// backs off on its own failures), and the shortest such wait.
func indexesInBackoff(job *batchv1.Job, pods []*corev1.Pod, settled indexSet, now time.Time) (indexSet, time.Duration) {
	byIndex := map[int][]*corev1.Pod{}
	for _, p := range pods {
		if ix := podIndex(p); ix >= 0 && !settled[ix] {
			byIndex[ix] = append(byIndex[ix], p)
		}
	}
	waiting := indexSet{}
	var shortest time.Duration
	for ix, ps := range byIndex {
		if d := creationBackoff(ps, job, now); d > 0 {
			waiting[ix] = true
			if shortest == 0 || d < shortest {
				shortest = d
			}
		}
	}
	return waiting, shortest
}
