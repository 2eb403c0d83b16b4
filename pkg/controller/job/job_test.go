package job

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

func TestIndexesFormat(t *testing.T) {
	for _, tc := range []struct {
		in   []int
		want string
	}{
		{nil, ""},
		{[]int{0}, "0"},
		{[]int{1, 2}, "1,2"},
		{[]int{0, 1, 2}, "0-2"},
		{[]int{1, 3, 4, 5, 7}, "1,3-5,7"},
		{[]int{0, 1, 2, 5, 8, 9}, "0-2,5,8,9"},
	} {
		s := indexSet{}
		for _, i := range tc.in {
			s[i] = true
		}
		if got := s.String(); got != tc.want {
			t.Errorf("%v: got %q, want %q", tc.in, got, tc.want)
		}
		if back := parseIndexes(tc.want, 100); !cmp.Equal(back, s) {
			t.Errorf("parse %q: got %v, want %v", tc.want, back, s)
		}
	}
	// Indexes at or past completions and garbage are dropped.
	if got := parseIndexes("1,3-6,x,9", 5).String(); got != "1,3,4" {
		t.Errorf("bounded parse: got %q", got)
	}
	if got := missingIndexes(6, parseIndexes("0,2", 6), indexSet{1: true}, 2); !cmp.Equal(got, []int{3, 4}) {
		t.Errorf("missing: got %v", got)
	}
}

func TestWantActive(t *testing.T) {
	job := func(completions *int32, parallelism int32) *batchv1.Job {
		return &batchv1.Job{Spec: batchv1.JobSpec{Completions: completions, Parallelism: ptr.To(parallelism)}}
	}
	for _, tc := range []struct {
		job       *batchv1.Job
		succeeded int32
		want      int32
	}{
		{job(ptr.To[int32](3), 2), 0, 2},
		{job(ptr.To[int32](3), 2), 2, 1},
		{job(ptr.To[int32](3), 2), 3, 0},
		{job(ptr.To[int32](3), 2), 5, 0},
		{job(nil, 4), 0, 4},
		{job(nil, 4), 1, 0},
	} {
		if got := wantActive(tc.job, tc.succeeded); got != tc.want {
			t.Errorf("completions %v parallelism %d succeeded %d: got %d, want %d",
				ptr.Deref(tc.job.Spec.Completions, -1), *tc.job.Spec.Parallelism, tc.succeeded, got, tc.want)
		}
	}
}

func TestBackoffLimit(t *testing.T) {
	job := &batchv1.Job{Spec: batchv1.JobSpec{BackoffLimit: ptr.To[int32](2),
		Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever}}}}
	if exceedsBackoffLimit(job, 2, nil) || !exceedsBackoffLimit(job, 3, nil) {
		t.Error("Never: the limit is failures > backoffLimit")
	}
	job.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	running := &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning,
		ContainerStatuses: []corev1.ContainerStatus{{RestartCount: 1}}}}
	if exceedsBackoffLimit(job, 0, []*corev1.Pod{running}) || !exceedsBackoffLimit(job, 1, []*corev1.Pod{running}) {
		t.Error("OnFailure: failures plus restarts >= backoffLimit")
	}
}

func TestCreationBackoff(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	job := &batchv1.Job{}
	pod := func(phase corev1.PodPhase, finished time.Time) *corev1.Pod {
		return &corev1.Pod{Status: corev1.PodStatus{Phase: phase, ContainerStatuses: []corev1.ContainerStatus{{
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{FinishedAt: metav1.NewTime(finished)}}}}}}
	}
	if d := creationBackoff(nil, job, now); d != 0 {
		t.Errorf("no failures: %v", d)
	}
	one := []*corev1.Pod{pod(corev1.PodFailed, now.Add(-4*time.Second))}
	if d := creationBackoff(one, job, now); d != 6*time.Second {
		t.Errorf("one failure 4s ago: %v, want 6s", d)
	}
	three := append(one, pod(corev1.PodFailed, now.Add(-5*time.Second)), pod(corev1.PodFailed, now.Add(-time.Second)))
	if d := creationBackoff(three, job, now); d != 39*time.Second {
		t.Errorf("three failures, last 1s ago: %v, want 39s", d)
	}
	// A later success resets the count.
	reset := append(three, pod(corev1.PodSucceeded, now.Add(-500*time.Millisecond)))
	if d := creationBackoff(reset, job, now); d != 0 {
		t.Errorf("after success: %v", d)
	}
}

func TestMoveCounted(t *testing.T) {
	s := &batchv1.JobStatus{Succeeded: 1, Failed: 2, UncountedTerminatedPods: &batchv1.UncountedTerminatedPods{
		Succeeded: []types.UID{"a", "b"}, Failed: []types.UID{"c"}}}
	moveCounted(s, map[types.UID]bool{"a": true, "c": true})
	want := &batchv1.JobStatus{Succeeded: 2, Failed: 3, UncountedTerminatedPods: &batchv1.UncountedTerminatedPods{
		Succeeded: []types.UID{"b"}}}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Error(diff)
	}
}

func TestConditionsAndTTL(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s := &batchv1.JobStatus{}
	if setCondition(s, batchv1.JobSuspended, corev1.ConditionFalse, "JobResumed", "", now) {
		t.Error("an absent False condition is not added")
	}
	if !setCondition(s, batchv1.JobSuspended, corev1.ConditionTrue, "JobSuspended", "Job suspended", now) ||
		setCondition(s, batchv1.JobSuspended, corev1.ConditionTrue, "JobSuspended", "Job suspended", now) {
		t.Error("set once, then unchanged")
	}
	if !setCondition(s, batchv1.JobSuspended, corev1.ConditionFalse, "JobResumed", "Job resumed", now) || len(s.Conditions) != 1 {
		t.Errorf("flip: %+v", s.Conditions)
	}
	job := &batchv1.Job{Spec: batchv1.JobSpec{TTLSecondsAfterFinished: ptr.To[int32](30)}}
	if expired, _ := ttlExpired(job, now); expired {
		t.Error("unfinished job expired")
	}
	setCondition(&job.Status, batchv1.JobComplete, corev1.ConditionTrue, "CompletionsReached", "", now)
	if expired, left := ttlExpired(job, now.Add(10*time.Second)); expired || left != 20*time.Second {
		t.Errorf("10s after: expired %v, left %v", expired, left)
	}
	if expired, _ := ttlExpired(job, now.Add(30*time.Second)); !expired {
		t.Error("30s after: not expired")
	}
}

func TestNewIndexedPod(t *testing.T) {
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "work", Namespace: "ns", UID: "u1"},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "b"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}}}
	p := newPod(job, 4)
	if p.GenerateName != "work-4-" || p.Spec.Hostname != "work-4" || podIndex(p) != 4 ||
		p.Labels[batchv1.JobCompletionIndexAnnotation] != "4" || !hasFinalizer(p) {
		t.Fatalf("pod: %+v", p.ObjectMeta)
	}
	env := p.Spec.Containers[0].Env
	if len(env) != 1 || env[0].Name != "JOB_COMPLETION_INDEX" || env[0].ValueFrom.FieldRef == nil {
		t.Errorf("env: %+v", env)
	}
	if job.Spec.Template.Labels[batchv1.JobCompletionIndexAnnotation] != "" || len(job.Spec.Template.Spec.Containers[0].Env) != 0 {
		t.Error("template modified")
	}
}
