package integration

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// createCronJob creates a suspended every-minute CronJob.
func createCronJob(t *testing.T, c context.Context, ns, name string, mutate func(*batchv1.CronJobSpec)) *batchv1.CronJob {
	t.Helper()
	spec := batchv1.CronJobSpec{Schedule: "* * * * *", Suspend: ptr(true),
		JobTemplate: batchv1.JobTemplateSpec{Spec: jobSpec(ptr[int32](1), ptr[int32](1))}}
	if mutate != nil {
		mutate(&spec)
	}
	cj, err := cluster.client.BatchV1().CronJobs(ns).Create(c, &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cj
}

// backdateAndResume makes the CronJob look as if it last ran minutes ago
// and resumes it, so that a missed activation is due at once instead of
// at the next minute boundary.
func backdateAndResume(t *testing.T, c context.Context, ns, name string) {
	t.Helper()
	cj, err := cluster.client.BatchV1().CronJobs(ns).Get(c, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cj.Status.LastScheduleTime = ptr(metav1.NewTime(time.Now().Add(-5 * time.Minute)))
	if _, err := cluster.client.BatchV1().CronJobs(ns).UpdateStatus(c, cj, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	patch := []byte(`{"spec":{"suspend":false}}`)
	if _, err := cluster.client.BatchV1().CronJobs(ns).Patch(c, name, "application/merge-patch+json", patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// scheduledJobs lists the Jobs a CronJob started on its own (named
// <cronjob>-<minutes>).
func scheduledJobs(c context.Context, ns, cronjob string) ([]batchv1.Job, error) {
	list, err := cluster.client.BatchV1().Jobs(ns).List(c, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []batchv1.Job
	for _, j := range list.Items {
		suffix, ok := strings.CutPrefix(j.Name, cronjob+"-")
		if _, err := strconv.ParseInt(suffix, 10, 64); ok && err == nil {
			out = append(out, j)
		}
	}
	return out, nil
}

func ownedBy(cj *batchv1.CronJob) []metav1.OwnerReference {
	return []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "CronJob", Name: cj.Name, UID: cj.UID, Controller: ptr(true)}}
}

func TestCronJobCreatesJobAtSchedule(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	cj := createCronJob(t, c, ns, "tick", nil)
	before := time.Now()
	backdateAndResume(t, c, ns, "tick")
	var job batchv1.Job
	waitFor(t, 10*time.Second, "scheduled job", func() (bool, error) {
		jobs, err := scheduledJobs(c, ns, "tick")
		if len(jobs) != 1 {
			return false, fmt.Errorf("%d jobs (%v)", len(jobs), err)
		}
		job = jobs[0]
		return true, nil
	})
	minutes, _ := strconv.ParseInt(strings.TrimPrefix(job.Name, "tick-"), 10, 64)
	scheduled := time.Unix(minutes*60, 0)
	if scheduled.After(time.Now()) || scheduled.Before(before.Truncate(time.Minute)) {
		t.Fatalf("job %s scheduled at %v, not the latest minute before now", job.Name, scheduled)
	}
	ts, err := time.Parse(time.RFC3339, job.Annotations[batchv1.CronJobScheduledTimestampAnnotation])
	if err != nil || !ts.Equal(scheduled) {
		t.Fatalf("scheduled-timestamp annotation %q (%v), want %v", job.Annotations[batchv1.CronJobScheduledTimestampAnnotation], err, scheduled)
	}
	if ref := metav1.GetControllerOf(&job); ref == nil || ref.UID != cj.UID {
		t.Fatalf("job not controlled by the CronJob: %+v", job.OwnerReferences)
	}
	waitFor(t, 10*time.Second, "status", func() (bool, error) {
		cur, err := cluster.client.BatchV1().CronJobs(ns).Get(c, "tick", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		s := cur.Status
		return len(s.Active) == 1 && s.Active[0].Name == job.Name && s.LastScheduleTime != nil && s.LastScheduleTime.Time.Equal(scheduled),
			fmt.Errorf("status %+v", s)
	})
}

func TestCronJobForbidWaitsForRunningJob(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	cj := createCronJob(t, c, ns, "solo", func(s *batchv1.CronJobSpec) { s.ConcurrencyPolicy = batchv1.ForbidConcurrent })
	manual, err := cluster.client.BatchV1().Jobs(ns).Create(c, &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "solo-manual", OwnerReferences: ownedBy(cj)},
		Spec:       jobSpec(ptr[int32](1), ptr[int32](1)),
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "manual job active", func() (bool, error) {
		cur, err := cluster.client.BatchV1().CronJobs(ns).Get(c, "solo", metav1.GetOptions{})
		return err == nil && len(cur.Status.Active) == 1 && cur.Status.Active[0].UID == manual.UID, fmt.Errorf("%v", err)
	})
	backdateAndResume(t, c, ns, "solo")
	time.Sleep(2 * time.Second)
	if jobs, err := scheduledJobs(c, ns, "solo"); err != nil || len(jobs) != 0 {
		t.Fatalf("Forbid started %d jobs while one runs (%v)", len(jobs), err)
	}
	var pods []corev1.Pod
	waitFor(t, 10*time.Second, "manual job pod", func() (bool, error) {
		pods, err = runningPods(c, ns, "solo-manual")
		return len(pods) == 1, fmt.Errorf("%d pods (%v)", len(pods), err)
	})
	if err := finishPod(c, &pods[0], corev1.PodSucceeded); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the missed run once the job finished", func() (bool, error) {
		jobs, err := scheduledJobs(c, ns, "solo")
		return len(jobs) == 1, fmt.Errorf("%d jobs (%v)", len(jobs), err)
	})
	cur, err := cluster.client.BatchV1().CronJobs(ns).Get(c, "solo", metav1.GetOptions{})
	if err != nil || cur.Status.LastSuccessfulTime == nil {
		t.Fatalf("lastSuccessfulTime not set: %+v (%v)", cur.Status, err)
	}
}

func TestCronJobHistoryLimits(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	cj := createCronJob(t, c, ns, "hist", func(s *batchv1.CronJobSpec) { s.SuccessfulJobsHistoryLimit = ptr[int32](1) })
	for i := range 3 {
		// Zero completions: the Job completes at once.
		_, err := cluster.client.BatchV1().Jobs(ns).Create(c, &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("hist-old-%d", i), OwnerReferences: ownedBy(cj)},
			Spec:       jobSpec(ptr[int32](0), ptr[int32](1)),
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 15*time.Second, "one successful job kept", func() (bool, error) {
		list, err := cluster.client.BatchV1().Jobs(ns).List(c, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		var names []string
		for _, j := range list.Items {
			if j.DeletionTimestamp == nil {
				names = append(names, j.Name)
			}
		}
		return len(names) == 1, fmt.Errorf("jobs %v", names)
	})
}
