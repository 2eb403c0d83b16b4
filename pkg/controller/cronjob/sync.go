package cronjob

import (
	"context"
	"errors"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/pkg/cron"
)

func (cc *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	cached, err := cc.cjLister.CronJobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get cronjob %s: %w", key, err)
	}
	cj := cached.DeepCopy()
	jobs, err := cc.ownedJobs(cj)
	if err != nil {
		return err
	}
	status := cj.Status.DeepCopy()
	errs := []error{cc.reconcileActive(ctx, cj, status, jobs)}
	if cj.DeletionTimestamp == nil {
		errs = append(errs, cc.run(ctx, cj, status, jobs))
		errs = append(errs, cc.cleanupHistory(ctx, cj, jobs))
	}
	if !equality.Semantic.DeepEqual(cj.Status, *status) {
		cj.Status = *status
		if _, err := cc.client.BatchV1().CronJobs(ns).UpdateStatus(ctx, cj, metav1.UpdateOptions{}); err != nil {
			errs = append(errs, fmt.Errorf("update status of cronjob %s: %w", key, err))
		}
	}
	return errors.Join(errs...)
}

// ownedJobs lists the Jobs the CronJob controls.
func (cc *Controller) ownedJobs(cj *batchv1.CronJob) ([]*batchv1.Job, error) {
	all, err := cc.jobLister.Jobs(cj.Namespace).List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	var out []*batchv1.Job
	for _, j := range all {
		if ref := metav1.GetControllerOfNoCopy(j); ref != nil && ref.UID == cj.UID {
			out = append(out, j)
		}
	}
	return out, nil
}

// finished returns the terminal condition of a Job, if any.
func finished(j *batchv1.Job) (batchv1.JobConditionType, bool) {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c.Type, true
		}
	}
	return "", false
}

// reconcileActive makes status.active the CronJob's unfinished Jobs and
// records the latest successful finish.
func (cc *Controller) reconcileActive(ctx context.Context, cj *batchv1.CronJob, status *batchv1.CronJobStatus, jobs []*batchv1.Job) error {
	byUID := map[string]*batchv1.Job{}
	for _, j := range jobs {
		byUID[string(j.UID)] = j
		_, done := finished(j)
		if !done && activeIndex(status, j) < 0 {
			status.Active = append(status.Active, jobRef(j))
		}
	}
	var errs []error
	kept := status.Active[:0]
	for _, ref := range status.Active {
		j, ok := byUID[string(ref.UID)]
		if !ok {
			// Not in the cache: ask the API before forgetting it, as a
			// Job just created may not have arrived yet.
			live, err := cc.client.BatchV1().Jobs(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
			switch {
			case err == nil && live.UID == ref.UID:
				kept = append(kept, ref)
			case err == nil || apierrors.IsNotFound(err):
				cc.events.Eventf(cj, corev1.EventTypeNormal, "MissingJob", "Active job went missing: %v", ref.Name)
			default:
				kept = append(kept, ref)
				errs = append(errs, fmt.Errorf("get job %s: %w", ref.Name, err))
			}
			continue
		}
		cond, done := finished(j)
		if !done {
			kept = append(kept, ref)
			continue
		}
		cc.events.Eventf(cj, corev1.EventTypeNormal, "SawCompletedJob", "Saw completed job: %s, condition: %v", j.Name, cond)
		if t := j.Status.CompletionTime; cond == batchv1.JobComplete && t != nil &&
			(status.LastSuccessfulTime == nil || t.After(status.LastSuccessfulTime.Time)) {
			status.LastSuccessfulTime = t.DeepCopy()
		}
	}
	status.Active = kept
	if len(status.Active) == 0 {
		status.Active = nil
	}
	return errors.Join(errs...)
}

func activeIndex(status *batchv1.CronJobStatus, j *batchv1.Job) int {
	for i, ref := range status.Active {
		if ref.UID == j.UID {
			return i
		}
	}
	return -1
}

func jobRef(j *batchv1.Job) corev1.ObjectReference {
	return corev1.ObjectReference{Kind: "Job", APIVersion: "batch/v1", Namespace: j.Namespace, Name: j.Name,
		UID: j.UID, ResourceVersion: j.ResourceVersion}
}

// location is the CronJob's time zone (the controller's local one when
// unset).
func location(cj *batchv1.CronJob) (*time.Location, error) {
	if cj.Spec.TimeZone == nil {
		return time.Local, nil
	}
	return time.LoadLocation(*cj.Spec.TimeZone)
}

// run starts the Job of the latest due activation, if any, and asks to be
// woken at the next one.
func (cc *Controller) run(ctx context.Context, cj *batchv1.CronJob, status *batchv1.CronJobStatus, jobs []*batchv1.Job) error {
	loc, err := location(cj)
	if err != nil {
		cc.events.Eventf(cj, corev1.EventTypeWarning, "UnknownTimeZone", "invalid timeZone: %q: %s", ptr.Deref(cj.Spec.TimeZone, ""), err)
		return nil
	}
	sched, err := cron.Parse(cj.Spec.Schedule)
	if err != nil {
		cc.events.Eventf(cj, corev1.EventTypeWarning, "UnparseableSchedule", "unparseable schedule: %q : %s", cj.Spec.Schedule, err)
		return nil
	}
	if ptr.Deref(cj.Spec.Suspend, false) {
		return nil
	}
	now := cc.now().In(loc)
	if d, ok := wakeAfter(sched, now); ok {
		cc.queue.EnqueueAfter(cj, d)
	}
	scheduled, tooMany := mostRecent(sched, earliestTime(cj, now).In(loc), now)
	if tooMany {
		cc.events.Eventf(cj, corev1.EventTypeWarning, "TooManyMissedTimes",
			"too many missed start times (> %d). Set or decrease .spec.startingDeadlineSeconds or check clock skew", maxMissed)
	}
	if scheduled.IsZero() {
		return nil
	}
	if d := cj.Spec.StartingDeadlineSeconds; d != nil && scheduled.Add(time.Duration(*d)*time.Second).Before(now) {
		cc.events.Eventf(cj, corev1.EventTypeWarning, "MissSchedule", "Missed scheduled time to start a job: %s", scheduled.Format(time.RFC1123Z))
		return nil
	}
	name := jobName(cj, scheduled)
	for _, j := range jobs {
		if j.Name == name {
			return nil // this activation already ran
		}
	}
	switch {
	case cj.Spec.ConcurrencyPolicy == batchv1.ForbidConcurrent && len(status.Active) > 0:
		cc.events.Event(cj, corev1.EventTypeNormal, "JobAlreadyActive",
			"Not starting job because prior execution is running and concurrency policy is Forbid")
		return nil
	case cj.Spec.ConcurrencyPolicy == batchv1.ReplaceConcurrent:
		for len(status.Active) > 0 {
			ref := status.Active[0]
			if err := cc.deleteJob(ctx, cj, ref.Namespace, ref.Name, ref.UID); err != nil {
				return err
			}
			status.Active = status.Active[1:]
		}
		status.Active = nil
	}
	job, err := cc.client.BatchV1().Jobs(cj.Namespace).Create(ctx, newJob(cj, name, scheduled), metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		existing, gerr := cc.client.BatchV1().Jobs(cj.Namespace).Get(ctx, name, metav1.GetOptions{})
		if gerr != nil {
			return fmt.Errorf("get job %s: %w", name, gerr)
		}
		if ref := metav1.GetControllerOfNoCopy(existing); ref == nil || ref.UID != cj.UID {
			cc.events.Eventf(cj, corev1.EventTypeWarning, "FailedCreate", "Error creating job: %v", err)
			return nil
		}
		job, err = existing, nil
	}
	if err != nil {
		cc.events.Eventf(cj, corev1.EventTypeWarning, "FailedCreate", "Error creating job: %v", err)
		return fmt.Errorf("create job %s: %w", name, err)
	}
	cc.events.Eventf(cj, corev1.EventTypeNormal, "SuccessfulCreate", "Created job %v", job.Name)
	if _, done := finished(job); !done && activeIndex(status, job) < 0 {
		status.Active = append(status.Active, jobRef(job))
	}
	status.LastScheduleTime = ptr.To(metav1.NewTime(scheduled))
	return nil
}
