package integration

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// failPodWith plays the kubelet reporting a pod's failure: phase Failed,
// the container "work" terminated with code, and the given conditions.
func failPodWith(c context.Context, p *corev1.Pod, code int32, conds ...corev1.PodCondition) error {
	pods := cluster.client.CoreV1().Pods(p.Namespace)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := pods.Get(c, p.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		cur.Status.Phase = corev1.PodFailed
		cur.Status.Conditions = append(cur.Status.Conditions, conds...)
		cur.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "work", Image: "busybox", State: corev1.ContainerState{
			Terminated: &corev1.ContainerStateTerminated{ExitCode: code, FinishedAt: metav1.Now()}}}}
		_, err = pods.UpdateStatus(c, cur, metav1.UpdateOptions{})
		return err
	})
}

// indexedSpec is an Indexed Job of busybox pods.
func indexedSpec(completions, parallelism int32) batchv1.JobSpec {
	spec := jobSpec(ptr(completions), ptr(parallelism))
	spec.CompletionMode = ptr(batchv1.IndexedCompletion)
	return spec
}

// runningByIndex waits until the Job runs exactly the given indexes and
// returns their pods by index.
func runningByIndex(t *testing.T, c context.Context, ns, job string, timeout time.Duration, want ...string) map[string]corev1.Pod {
	t.Helper()
	byIndex := map[string]corev1.Pod{}
	waitFor(t, timeout, fmt.Sprintf("running indexes %v", want), func() (bool, error) {
		pods, err := runningPods(c, ns, job)
		clear(byIndex)
		var got []string
		for _, p := range pods {
			ix := p.Annotations[batchv1.JobCompletionIndexAnnotation]
			byIndex[ix] = p
			got = append(got, ix)
		}
		slices.Sort(got)
		return slices.Equal(got, want), fmt.Errorf("running %v (%v)", got, err)
	})
	return byIndex
}

func exitCodeRule(action batchv1.PodFailurePolicyAction, codes ...int32) batchv1.PodFailurePolicyRule {
	return batchv1.PodFailurePolicyRule{Action: action, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
		ContainerName: ptr("work"), Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: codes}}
}

func TestJobPodFailurePolicyFailJob(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	spec := jobSpec(ptr[int32](2), ptr[int32](2))
	spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{exitCodeRule(batchv1.PodFailurePolicyActionFailJob, 42)}}
	createJob(t, c, ns, "fatal", spec)
	var pods []corev1.Pod
	waitFor(t, 10*time.Second, "2 pods", func() (bool, error) {
		var err error
		pods, err = runningPods(c, ns, "fatal")
		return len(pods) == 2, fmt.Errorf("%d pods (%v)", len(pods), err)
	})
	if err := failPodWith(c, &pods[0], 42); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("Container work for pod %s/%s failed with exit code 42 matching FailJob rule at index 0", ns, pods[0].Name)
	job := waitJob(t, c, ns, "fatal", "Failed PodFailurePolicy", hasTrueCondition(batchv1.JobFailed, batchv1.JobReasonPodFailurePolicy))
	target, failed := jobCondition(job, batchv1.JobFailureTarget), jobCondition(job, batchv1.JobFailed)
	if target == nil || target.Reason != batchv1.JobReasonPodFailurePolicy || target.Message != want || failed.Message != want {
		t.Fatalf("conditions %+v, want message %q", job.Status.Conditions, want)
	}
	if job.Status.Active != 0 || job.Status.Failed < 1 || job.Status.CompletionTime != nil {
		t.Fatalf("status %+v", job.Status)
	}
	waitFor(t, 10*time.Second, "other pod deleted", func() (bool, error) {
		left, err := runningPods(c, ns, "fatal")
		return len(left) == 0 && err == nil, fmt.Errorf("%d left (%v)", len(left), err)
	})
}

func TestJobPodFailurePolicyIgnoresDisruption(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	spec := jobSpec(ptr[int32](1), ptr[int32](1))
	spec.BackoffLimit = ptr[int32](0)
	spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
		exitCodeRule(batchv1.PodFailurePolicyActionFailJob, 42),
		{Action: batchv1.PodFailurePolicyActionIgnore, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{
			{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}},
	}}
	createJob(t, c, ns, "evicted", spec)
	var pods []corev1.Pod
	waitFor(t, 10*time.Second, "a pod", func() (bool, error) {
		var err error
		pods, err = runningPods(c, ns, "evicted")
		return len(pods) == 1, fmt.Errorf("%d pods (%v)", len(pods), err)
	})
	first := pods[0]
	disrupted := corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "EvictionByEvictionAPI",
		Message: "Eviction API: evicting", LastTransitionTime: metav1.Now()}
	if err := failPodWith(c, &first, 137, disrupted); err != nil {
		t.Fatal(err)
	}
	// The failure is not counted (backoffLimit 0 would fail the Job) and
	// a replacement pod starts once the creation back-off has passed.
	var replacement corev1.Pod
	waitFor(t, 20*time.Second, "replacement pod", func() (bool, error) {
		pods, err := runningPods(c, ns, "evicted")
		if len(pods) == 1 && pods[0].UID != first.UID {
			replacement = pods[0]
			return true, nil
		}
		return false, fmt.Errorf("%d running (%v)", len(pods), err)
	})
	job, err := cluster.client.BatchV1().Jobs(ns).Get(c, "evicted", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if job.Status.Failed != 0 || jobCondition(job, batchv1.JobFailureTarget) != nil {
		t.Fatalf("ignored failure counted: %+v", job.Status)
	}
	got, err := cluster.client.CoreV1().Pods(ns).Get(c, first.Name, metav1.GetOptions{})
	if err != nil || slices.Contains(got.Finalizers, batchv1.JobTrackingFinalizer) {
		t.Fatalf("ignored pod keeps its tracking finalizer (%v): %v", err, got.Finalizers)
	}
	if err := finishPod(c, &replacement, corev1.PodSucceeded); err != nil {
		t.Fatal(err)
	}
	job = waitJob(t, c, ns, "evicted", "Complete", hasTrueCondition(batchv1.JobComplete, batchv1.JobReasonCompletionsReached))
	if job.Status.Failed != 0 || job.Status.Succeeded != 1 {
		t.Fatalf("status %+v", job.Status)
	}
}

func TestJobBackoffLimitPerIndex(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	spec := indexedSpec(3, 3)
	spec.BackoffLimitPerIndex = ptr[int32](1)
	createJob(t, c, ns, "perindex", spec)
	byIndex := runningByIndex(t, c, ns, "perindex", 10*time.Second, "0", "1", "2")
	for ix, p := range byIndex {
		if p.Annotations[batchv1.JobIndexFailureCountAnnotation] != "0" {
			t.Fatalf("index %s: annotations %v", ix, p.Annotations)
		}
	}
	p0, p1, p2 := byIndex["0"], byIndex["1"], byIndex["2"]
	if err := failPodWith(c, &p1, 1); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*corev1.Pod{&p0, &p2} {
		if err := finishPod(c, p, corev1.PodSucceeded); err != nil {
			t.Fatal(err)
		}
	}
	job := waitJob(t, c, ns, "perindex", "indexes 0,2 completed", func(j *batchv1.Job) bool { return j.Status.CompletedIndexes == "0,2" })
	if job.Status.FailedIndexes == nil || *job.Status.FailedIndexes != "" || isJobFinished(job) {
		t.Fatalf("one failure of index 1 within its limit: %+v", job.Status)
	}
	// Index 1 is retried once, after its back-off, by a pod that knows
	// the index failed before; the second failure fails the index.
	retried := runningByIndex(t, c, ns, "perindex", 20*time.Second, "1")["1"]
	if retried.Annotations[batchv1.JobIndexFailureCountAnnotation] != "1" {
		t.Fatalf("retry annotations %v", retried.Annotations)
	}
	if err := failPodWith(c, &retried, 1); err != nil {
		t.Fatal(err)
	}
	job = waitJob(t, c, ns, "perindex", "Failed FailedIndexes", hasTrueCondition(batchv1.JobFailed, batchv1.JobReasonFailedIndexes))
	s := job.Status
	if s.FailedIndexes == nil || *s.FailedIndexes != "1" || s.CompletedIndexes != "0,2" || s.Failed != 2 || s.Succeeded != 2 ||
		jobCondition(job, batchv1.JobFailed).Message != "Job has failed indexes" ||
		!hasTrueCondition(batchv1.JobFailureTarget, batchv1.JobReasonFailedIndexes)(job) {
		t.Fatalf("status %+v", s)
	}
}

func isJobFinished(j *batchv1.Job) bool {
	return hasTrueCondition(batchv1.JobComplete, "")(j) || hasTrueCondition(batchv1.JobFailed, "")(j)
}

func TestJobMaxFailedIndexes(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	spec := indexedSpec(4, 4)
	spec.BackoffLimitPerIndex = ptr[int32](1)
	spec.MaxFailedIndexes = ptr[int32](1)
	// Exit code 3 fails the index at once, despite backoffLimitPerIndex.
	spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{exitCodeRule(batchv1.PodFailurePolicyActionFailIndex, 3)}}
	createJob(t, c, ns, "maxfailed", spec)
	byIndex := runningByIndex(t, c, ns, "maxfailed", 10*time.Second, "0", "1", "2", "3")
	p0, p2 := byIndex["0"], byIndex["2"]
	if err := failPodWith(c, &p0, 3); err != nil {
		t.Fatal(err)
	}
	job := waitJob(t, c, ns, "maxfailed", `failedIndexes "0"`, func(j *batchv1.Job) bool {
		return j.Status.FailedIndexes != nil && *j.Status.FailedIndexes == "0"
	})
	if isJobFinished(job) || jobCondition(job, batchv1.JobFailureTarget) != nil {
		t.Fatalf("one failed index is within maxFailedIndexes: %+v", job.Status)
	}
	if err := failPodWith(c, &p2, 3); err != nil {
		t.Fatal(err)
	}
	job = waitJob(t, c, ns, "maxfailed", "Failed MaxFailedIndexesExceeded",
		hasTrueCondition(batchv1.JobFailed, batchv1.JobReasonMaxFailedIndexesExceeded))
	if s := job.Status; s.FailedIndexes == nil || *s.FailedIndexes != "0,2" || s.Active != 0 ||
		jobCondition(job, batchv1.JobFailed).Message != "Job has exceeded the specified maximal number of failed indexes" {
		t.Fatalf("status %+v", s)
	}
	waitFor(t, 10*time.Second, "indexes 1 and 3 deleted", func() (bool, error) {
		left, err := runningPods(c, ns, "maxfailed")
		return len(left) == 0 && err == nil, fmt.Errorf("%d left (%v)", len(left), err)
	})
}

func TestJobSuccessPolicy(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	spec := indexedSpec(3, 3)
	spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{{SucceededIndexes: ptr("0,1")}}}
	createJob(t, c, ns, "leader", spec)
	byIndex := runningByIndex(t, c, ns, "leader", 10*time.Second, "0", "1", "2")
	p0, p1 := byIndex["0"], byIndex["1"]
	if err := finishPod(c, &p0, corev1.PodSucceeded); err != nil {
		t.Fatal(err)
	}
	job := waitJob(t, c, ns, "leader", `completedIndexes "0"`, func(j *batchv1.Job) bool { return j.Status.CompletedIndexes == "0" })
	if jobCondition(job, batchv1.JobSuccessCriteriaMet) != nil {
		t.Fatalf("rule met with index 1 missing: %+v", job.Status)
	}
	if err := finishPod(c, &p1, corev1.PodSucceeded); err != nil {
		t.Fatal(err)
	}
	job = waitJob(t, c, ns, "leader", "Complete SuccessPolicy", hasTrueCondition(batchv1.JobComplete, batchv1.JobReasonSuccessPolicy))
	met := jobCondition(job, batchv1.JobSuccessCriteriaMet)
	if s := job.Status; met == nil || met.Reason != batchv1.JobReasonSuccessPolicy || met.Message != "Matched rules at index 0" ||
		jobCondition(job, batchv1.JobComplete).Message != "Matched rules at index 0" ||
		s.CompletedIndexes != "0,1" || s.Succeeded != 2 || s.Failed != 0 || s.Active != 0 || s.CompletionTime == nil {
		t.Fatalf("status %+v", s)
	}
	waitFor(t, 10*time.Second, "index 2 terminated", func() (bool, error) {
		left, err := runningPods(c, ns, "leader")
		return len(left) == 0 && err == nil, fmt.Errorf("%d left (%v)", len(left), err)
	})
}
