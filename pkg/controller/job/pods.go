package job

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/pkg/controller/replicaset"
)

// Pod creation back-off after failures: 10 s, doubling per consecutive
// failure since the last success, capped at six minutes.
const (
	podFailureBackoff    = 10 * time.Second
	maxPodFailureBackoff = 6 * time.Minute
)

// completionIndexEnv is the environment variable carrying an Indexed
// Job pod's index.
const completionIndexEnv = "JOB_COMPLETION_INDEX"

func hasFinalizer(p *corev1.Pod) bool {
	return slices.Contains(p.Finalizers, batchv1.JobTrackingFinalizer)
}

// onlyReplaceFailed reports whether terminating pods wait for the Failed
// phase before they count (podReplacementPolicy Failed, which a
// podFailurePolicy implies).
func onlyReplaceFailed(job *batchv1.Job) bool {
	return job.Spec.PodFailurePolicy != nil ||
		ptr.Deref(job.Spec.PodReplacementPolicy, batchv1.TerminatingOrFailed) == batchv1.Failed
}

// podFailed reports whether a pod counts as failed: phase Failed, or, with
// the TerminatingOrFailed replacement policy, deleted before it succeeded
// (a deleted pod may never reach a terminal phase).
func podFailed(p *corev1.Pod, job *batchv1.Job) bool {
	if p.Status.Phase == corev1.PodFailed {
		return true
	}
	if onlyReplaceFailed(job) {
		return false
	}
	return p.DeletionTimestamp != nil && p.Status.Phase != corev1.PodSucceeded
}

// podTerminating reports a pod being deleted that has not reached a
// terminal phase yet.
func podTerminating(p *corev1.Pod) bool {
	return p.DeletionTimestamp != nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// finishTime estimates when a pod finished: its last container exit,
// else its deletion or creation time.
func finishTime(p *corev1.Pod) time.Time {
	var t time.Time
	for _, statuses := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, s := range statuses {
			if term := s.State.Terminated; term != nil && term.FinishedAt.After(t) {
				t = term.FinishedAt.Time
			}
		}
	}
	if !t.IsZero() {
		return t
	}
	if p.DeletionTimestamp != nil {
		return p.DeletionTimestamp.Time
	}
	return p.CreationTimestamp.Time
}

// creationBackoff returns how long pod creation must still wait at now:
// podFailureBackoff doubled for every failure after the last success,
// counted from the last failure.
func creationBackoff(pods []*corev1.Pod, job *batchv1.Job, now time.Time) time.Duration {
	var lastSuccess, lastFailure time.Time
	for _, p := range pods {
		if p.Status.Phase == corev1.PodSucceeded {
			if t := finishTime(p); t.After(lastSuccess) {
				lastSuccess = t
			}
		}
	}
	failures := 0
	for _, p := range pods {
		if !podFailed(p, job) {
			continue
		}
		if t := finishTime(p); t.After(lastSuccess) {
			failures++
			if t.After(lastFailure) {
				lastFailure = t
			}
		}
	}
	if failures == 0 {
		return 0
	}
	delay := podFailureBackoff
	for i := 1; i < failures && delay < maxPodFailureBackoff; i++ {
		delay *= 2
	}
	delay = min(delay, maxPodFailureBackoff)
	return max(lastFailure.Add(delay).Sub(now), 0)
}

// restartsOfActive sums the container restarts of pods still pending or
// running, which count against backoffLimit under restartPolicy OnFailure.
func restartsOfActive(pods []*corev1.Pod) int32 {
	var n int32
	for _, p := range pods {
		if p.Status.Phase != corev1.PodPending && p.Status.Phase != corev1.PodRunning {
			continue
		}
		for _, statuses := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
			for _, s := range statuses {
				n += s.RestartCount
			}
		}
	}
	return n
}

// newPod builds a pod of job; index is its completion index, or -1 for a
// NonIndexed Job. The pod carries the tracking finalizer so that it is
// counted even if deleted early.
func newPod(job *batchv1.Job, index int) *corev1.Pod {
	pod := replicaset.PodFromTemplate(&job.Spec.Template, job, kind)
	pod.Finalizers = append(pod.Finalizers, batchv1.JobTrackingFinalizer)
	if index < 0 {
		return pod
	}
	ix := strconv.Itoa(index)
	pod.GenerateName = fmt.Sprintf("%s-%d-", job.Name, index)
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[batchv1.JobCompletionIndexAnnotation] = ix
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[batchv1.JobCompletionIndexAnnotation] = ix
	if pod.Spec.Hostname == "" {
		pod.Spec.Hostname = fmt.Sprintf("%s-%d", job.Name, index)
	}
	env := corev1.EnvVar{Name: completionIndexEnv, ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{FieldPath: fmt.Sprintf("metadata.annotations['%s']", batchv1.JobCompletionIndexAnnotation)},
	}}
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range cs {
			if !slices.ContainsFunc(cs[i].Env, func(e corev1.EnvVar) bool { return e.Name == completionIndexEnv }) {
				cs[i].Env = append(cs[i].Env, env)
			}
		}
	}
	return pod
}

// deletionOrder sorts pods cheapest to lose first: unscheduled, pending,
// not ready, then newest.
func deletionOrder(pods []*corev1.Pod) {
	rank := func(p *corev1.Pod) int {
		switch {
		case p.Spec.NodeName == "":
			return 0
		case p.Status.Phase == corev1.PodPending:
			return 1
		case !replicaset.IsPodReady(p):
			return 2
		}
		return 3
	}
	slices.SortStableFunc(pods, func(a, b *corev1.Pod) int {
		if c := rank(a) - rank(b); c != 0 {
			return c
		}
		return b.CreationTimestamp.Compare(a.CreationTimestamp.Time)
	})
}
