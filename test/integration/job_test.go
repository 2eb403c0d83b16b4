package integration

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// jobSpec is a Job running busybox with restartPolicy Never.
func jobSpec(completions, parallelism *int32) batchv1.JobSpec {
	return batchv1.JobSpec{Completions: completions, Parallelism: parallelism, Template: corev1.PodTemplateSpec{
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "work", Image: "busybox"}}},
	}}
}

func createJob(t *testing.T, c context.Context, ns, name string, spec batchv1.JobSpec) *batchv1.Job {
	t.Helper()
	job, err := cluster.client.BatchV1().Jobs(ns).Create(c, &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return job
}

// jobPods lists the live (not terminating) pods of a Job.
func jobPods(c context.Context, ns, job string) ([]corev1.Pod, error) {
	return activePods(c, ns, batchv1.JobNameLabel+"="+job)
}

// finishPod plays the kubelet reporting a pod's end: phase Succeeded or
// Failed with a terminated container. Others (the scheduler, the test
// kubelet) may write the pod meanwhile, so it retries on conflicts.
func finishPod(c context.Context, p *corev1.Pod, phase corev1.PodPhase) error {
	code := int32(0)
	if phase == corev1.PodFailed {
		code = 1
	}
	pods := cluster.client.CoreV1().Pods(p.Namespace)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := pods.Get(c, p.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		cur.Status.Phase = phase
		cur.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "work", Image: "busybox", State: corev1.ContainerState{
			Terminated: &corev1.ContainerStateTerminated{ExitCode: code, FinishedAt: metav1.Now()}}}}
		_, err = pods.UpdateStatus(c, cur, metav1.UpdateOptions{})
		return err
	})
}

// runningPods returns the Job's pods not yet finished.
func runningPods(c context.Context, ns, job string) ([]corev1.Pod, error) {
	pods, err := jobPods(c, ns, job)
	return slices.DeleteFunc(pods, func(p corev1.Pod) bool {
		return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
	}), err
}

func jobCondition(j *batchv1.Job, typ batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		if j.Status.Conditions[i].Type == typ {
			return &j.Status.Conditions[i]
		}
	}
	return nil
}

// waitJob waits until cond holds for the Job and returns it.
func waitJob(t *testing.T, c context.Context, ns, name, what string, cond func(*batchv1.Job) bool) *batchv1.Job {
	t.Helper()
	var job *batchv1.Job
	waitFor(t, 15*time.Second, what, func() (bool, error) {
		j, err := cluster.client.BatchV1().Jobs(ns).Get(c, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		job = j
		return cond(j), fmt.Errorf("status %+v", j.Status)
	})
	return job
}

func hasTrueCondition(typ batchv1.JobConditionType, reason string) func(*batchv1.Job) bool {
	return func(j *batchv1.Job) bool {
		c := jobCondition(j, typ)
		return c != nil && c.Status == corev1.ConditionTrue && (reason == "" || c.Reason == reason)
	}
}

func TestJobRunsToCompletion(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	createJob(t, c, ns, "count", jobSpec(ptr[int32](3), ptr[int32](2)))
	for done := 0; done < 3; done++ {
		var pods []corev1.Pod
		want := min(2, 3-done)
		waitFor(t, 10*time.Second, "running pods", func() (bool, error) {
			var err error
			pods, err = runningPods(c, ns, "count")
			return len(pods) == want, fmt.Errorf("%d running, want %d (%v)", len(pods), want, err)
		})
		p := pods[0]
		if !slices.Contains(p.Finalizers, batchv1.JobTrackingFinalizer) || p.Labels[batchv1.JobNameLabel] != "count" {
			t.Fatalf("pod %s: finalizers %v labels %v", p.Name, p.Finalizers, p.Labels)
		}
		if err := finishPod(c, &p, corev1.PodSucceeded); err != nil {
			t.Fatal(err)
		}
		waitJob(t, c, ns, "count", "succeeded counted", func(j *batchv1.Job) bool { return j.Status.Succeeded == int32(done+1) })
	}
	job := waitJob(t, c, ns, "count", "Complete", hasTrueCondition(batchv1.JobComplete, batchv1.JobReasonCompletionsReached))
	s := job.Status
	if s.Active != 0 || s.Failed != 0 || s.StartTime == nil || s.CompletionTime == nil ||
		s.UncountedTerminatedPods == nil || len(s.UncountedTerminatedPods.Succeeded) != 0 ||
		!hasTrueCondition(batchv1.JobSuccessCriteriaMet, batchv1.JobReasonCompletionsReached)(job) {
		t.Fatalf("status %+v", s)
	}
	pods, _ := jobPods(c, ns, "count")
	if len(pods) != 3 {
		t.Fatalf("%d pods, want 3", len(pods))
	}
	for _, p := range pods {
		if slices.Contains(p.Finalizers, batchv1.JobTrackingFinalizer) {
			t.Errorf("pod %s still has the tracking finalizer", p.Name)
		}
	}
}

func TestJobBackoffLimitFails(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	spec := jobSpec(ptr[int32](2), ptr[int32](2))
	spec.BackoffLimit = ptr[int32](0)
	createJob(t, c, ns, "flaky", spec)
	var pods []corev1.Pod
	waitFor(t, 10*time.Second, "2 pods", func() (bool, error) {
		var err error
		pods, err = runningPods(c, ns, "flaky")
		return len(pods) == 2, fmt.Errorf("%d pods (%v)", len(pods), err)
	})
	if err := finishPod(c, &pods[0], corev1.PodFailed); err != nil {
		t.Fatal(err)
	}
	job := waitJob(t, c, ns, "flaky", "Failed", hasTrueCondition(batchv1.JobFailed, batchv1.JobReasonBackoffLimitExceeded))
	if job.Status.Failed < 1 || job.Status.Active != 0 || job.Status.CompletionTime != nil ||
		!hasTrueCondition(batchv1.JobFailureTarget, batchv1.JobReasonBackoffLimitExceeded)(job) {
		t.Fatalf("status %+v", job.Status)
	}
	waitFor(t, 10*time.Second, "running pod deleted", func() (bool, error) {
		left, err := runningPods(c, ns, "flaky")
		return len(left) == 0 && err == nil, fmt.Errorf("%d left (%v)", len(left), err)
	})
	waitFor(t, 10*time.Second, "BackoffLimitExceeded event", func() (bool, error) {
		evs, err := cluster.client.CoreV1().Events(ns).List(c, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, e := range evs.Items {
			if e.Reason == batchv1.JobReasonBackoffLimitExceeded && e.InvolvedObject.Name == "flaky" {
				return true, nil
			}
		}
		return false, fmt.Errorf("%d events, none BackoffLimitExceeded", len(evs.Items))
	})
}

func TestIndexedJob(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	spec := jobSpec(ptr[int32](3), ptr[int32](3))
	spec.CompletionMode = ptr(batchv1.IndexedCompletion)
	createJob(t, c, ns, "idx", spec)
	byIndex := map[string]corev1.Pod{}
	waitFor(t, 10*time.Second, "3 indexed pods", func() (bool, error) {
		pods, err := runningPods(c, ns, "idx")
		clear(byIndex)
		for _, p := range pods {
			byIndex[p.Annotations[batchv1.JobCompletionIndexAnnotation]] = p
		}
		return len(pods) == 3 && len(byIndex) == 3, fmt.Errorf("%d pods, indexes %v (%v)", len(pods), len(byIndex), err)
	})
	for _, ix := range []string{"0", "1", "2"} {
		p, ok := byIndex[ix]
		if !ok || p.Spec.Hostname != "idx-"+ix || p.Labels[batchv1.JobCompletionIndexAnnotation] != ix {
			t.Fatalf("index %s: %+v", ix, p.ObjectMeta)
		}
		env := p.Spec.Containers[0].Env
		if len(env) == 0 || env[0].Name != "JOB_COMPLETION_INDEX" {
			t.Fatalf("index %s env %+v", ix, env)
		}
	}
	p1 := byIndex["1"]
	if err := finishPod(c, &p1, corev1.PodSucceeded); err != nil {
		t.Fatal(err)
	}
	waitJob(t, c, ns, "idx", `completedIndexes "1"`, func(j *batchv1.Job) bool { return j.Status.CompletedIndexes == "1" })
	// A failed index is retried by a new pod of the same index.
	p0 := byIndex["0"]
	if err := finishPod(c, &p0, corev1.PodFailed); err != nil {
		t.Fatal(err)
	}
	p2 := byIndex["2"]
	if err := finishPod(c, &p2, corev1.PodSucceeded); err != nil {
		t.Fatal(err)
	}
	waitJob(t, c, ns, "idx", `completedIndexes "1,2"`, func(j *batchv1.Job) bool { return j.Status.CompletedIndexes == "1,2" })
	var retry corev1.Pod
	waitFor(t, 20*time.Second, "index 0 retried", func() (bool, error) {
		pods, err := runningPods(c, ns, "idx")
		if len(pods) == 1 && pods[0].Annotations[batchv1.JobCompletionIndexAnnotation] == "0" {
			retry = pods[0]
			return true, nil
		}
		return false, fmt.Errorf("%d running (%v)", len(pods), err)
	})
	if err := finishPod(c, &retry, corev1.PodSucceeded); err != nil {
		t.Fatal(err)
	}
	job := waitJob(t, c, ns, "idx", "Complete", hasTrueCondition(batchv1.JobComplete, ""))
	if job.Status.CompletedIndexes != "0-2" || job.Status.Succeeded != 3 || job.Status.Failed != 1 {
		t.Fatalf("status %+v", job.Status)
	}
}

func TestJobSuspendResume(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	spec := jobSpec(ptr[int32](2), ptr[int32](2))
	spec.Suspend = ptr(true)
	createJob(t, c, ns, "later", spec)
	job := waitJob(t, c, ns, "later", "Suspended", hasTrueCondition(batchv1.JobSuspended, "JobSuspended"))
	if job.Status.StartTime != nil {
		t.Fatalf("suspended job started: %+v", job.Status)
	}
	if pods, _ := jobPods(c, ns, "later"); len(pods) != 0 {
		t.Fatalf("%d pods of a suspended job", len(pods))
	}
	setSuspend := func(v bool) {
		t.Helper()
		patch := fmt.Appendf(nil, `{"spec":{"suspend":%t}}`, v)
		if _, err := cluster.client.BatchV1().Jobs(ns).Patch(c, "later", "application/merge-patch+json", patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	setSuspend(false)
	job = waitJob(t, c, ns, "later", "resumed with 2 active", func(j *batchv1.Job) bool {
		cond := jobCondition(j, batchv1.JobSuspended)
		return cond != nil && cond.Status == corev1.ConditionFalse && cond.Reason == "JobResumed" && j.Status.Active == 2 && j.Status.StartTime != nil
	})
	setSuspend(true)
	waitJob(t, c, ns, "later", "suspended again", func(j *batchv1.Job) bool {
		return hasTrueCondition(batchv1.JobSuspended, "JobSuspended")(j) && j.Status.Active == 0
	})
	waitFor(t, 10*time.Second, "pods deleted", func() (bool, error) {
		pods, err := jobPods(c, ns, "later")
		return len(pods) == 0 && err == nil, fmt.Errorf("%d pods (%v)", len(pods), err)
	})
	if j, _ := cluster.client.BatchV1().Jobs(ns).Get(c, "later", metav1.GetOptions{}); j.Status.Failed != 0 {
		t.Errorf("suspension counted as failure: %+v", j.Status)
	}
}

func TestJobTTLAfterFinished(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	spec := jobSpec(ptr[int32](1), ptr[int32](1))
	spec.TTLSecondsAfterFinished = ptr[int32](1)
	createJob(t, c, ns, "brief", spec)
	var pods []corev1.Pod
	waitFor(t, 10*time.Second, "pod", func() (bool, error) {
		var err error
		pods, err = runningPods(c, ns, "brief")
		return len(pods) == 1, fmt.Errorf("%d pods (%v)", len(pods), err)
	})
	if err := finishPod(c, &pods[0], corev1.PodSucceeded); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "job deleted after its TTL", func() (bool, error) {
		_, err := cluster.client.BatchV1().Jobs(ns).Get(c, "brief", metav1.GetOptions{})
		return apierrors.IsNotFound(err), fmt.Errorf("get: %v", err)
	})
	waitFor(t, 15*time.Second, "its pod collected", func() (bool, error) {
		_, err := cluster.client.CoreV1().Pods(ns).Get(c, pods[0].Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), fmt.Errorf("get: %v", err)
	})
}

func TestJobActiveDeadline(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	spec := jobSpec(ptr[int32](1), ptr[int32](1))
	spec.ActiveDeadlineSeconds = ptr[int64](1)
	createJob(t, c, ns, "slow", spec)
	job := waitJob(t, c, ns, "slow", "Failed DeadlineExceeded", hasTrueCondition(batchv1.JobFailed, batchv1.JobReasonDeadlineExceeded))
	if job.Status.Active != 0 {
		t.Fatalf("status %+v", job.Status)
	}
	waitFor(t, 10*time.Second, "pod deleted", func() (bool, error) {
		pods, err := jobPods(c, ns, "slow")
		return len(pods) == 0 && err == nil, fmt.Errorf("%d pods (%v)", len(pods), err)
	})
}
