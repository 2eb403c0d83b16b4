package registry

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func testCronJob() *batchv1.CronJob {
	return &batchv1.CronJob{
		ObjectMeta: objectMeta("nightly"),
		Spec: batchv1.CronJobSpec{
			Schedule:    "0 3 * * *",
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: podTemplate(nil, corev1.RestartPolicyOnFailure)}},
		},
	}
}

func TestCronJobDefaults(t *testing.T) {
	r := groupResource(t, "cronjobs")
	c := testCronJob()
	r.Default(c)
	got := []any{c.Spec.ConcurrencyPolicy, *c.Spec.Suspend, *c.Spec.SuccessfulJobsHistoryLimit, *c.Spec.FailedJobsHistoryLimit,
		c.Spec.JobTemplate.Spec.Template.Spec.DNSPolicy, c.Spec.JobTemplate.Spec.BackoffLimit}
	want := []any{batchv1.AllowConcurrent, false, int32(3), int32(1), corev1.DNSClusterFirst, (*int32)(nil)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestCronJobValidation(t *testing.T) {
	r := groupResource(t, "cronjobs")
	cases := []struct {
		name   string
		mutate func(*batchv1.CronJob)
		want   []string
	}{
		{"valid", func(*batchv1.CronJob) {}, nil},
		{"shorthand", func(c *batchv1.CronJob) { c.Spec.Schedule = "@hourly" }, nil},
		{"time zone", func(c *batchv1.CronJob) { c.Spec.TimeZone = ptr.To("Europe/Paris") }, nil},
		{"no schedule", func(c *batchv1.CronJob) { c.Spec.Schedule = "" }, []string{"spec.schedule: Required value: "}},
		{"four fields", func(c *batchv1.CronJob) { c.Spec.Schedule = "0 3 * *" },
			[]string{"spec.schedule: Invalid value: expected exactly 5 fields, found 4: 0 3 * *"}},
		{"TZ prefix", func(c *batchv1.CronJob) { c.Spec.Schedule = "TZ=UTC 0 3 * * *" },
			[]string{"spec.schedule: Invalid value: cannot use TZ or CRON_TZ in schedule, use timeZone field instead"}},
		{"empty time zone", func(c *batchv1.CronJob) { c.Spec.TimeZone = ptr.To("") },
			[]string{"spec.timeZone: Invalid value: timeZone must be nil or non-empty string"}},
		{"local time zone", func(c *batchv1.CronJob) { c.Spec.TimeZone = ptr.To("Local") },
			[]string{"spec.timeZone: Invalid value: timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"}},
		{"unknown time zone", func(c *batchv1.CronJob) { c.Spec.TimeZone = ptr.To("Mars/Olympus") },
			[]string{"spec.timeZone: Invalid value: unknown time zone Mars/Olympus"}},
		{"bad characters", func(c *batchv1.CronJob) { c.Spec.TimeZone = ptr.To("../etc/passwd") },
			[]string{"spec.timeZone: Invalid value: unknown time zone ../etc/passwd"}},
		{"concurrency", func(c *batchv1.CronJob) { c.Spec.ConcurrencyPolicy = "Sometimes" },
			[]string{`spec.concurrencyPolicy: Unsupported value: supported values: "Allow", "Forbid", "Replace"`}},
		{"template selector", func(c *batchv1.CronJob) {
			c.Spec.JobTemplate.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}
			c.Spec.JobTemplate.Spec.ManualSelector = ptr.To(true)
		}, []string{"spec.jobTemplate.spec.selector: Invalid value: `selector` will be auto-generated",
			`spec.jobTemplate.spec.manualSelector: Unsupported value: supported values: "nil", "false"`}},
		{"template restart always", func(c *batchv1.CronJob) {
			c.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
		},
			[]string{`spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"`}},
		{"long name", func(c *batchv1.CronJob) { c.Name = strings.Repeat("a", 53) },
			[]string{"metadata.name: Invalid value: must be no more than 52 characters"}},
	}
	for _, c := range cases {
		checkErrors(t, c.name, createErrors(r, mutated(testCronJob(), c.mutate)), c.want)
	}
}

func TestCronJobUpdate(t *testing.T) {
	r := groupResource(t, "cronjobs")
	legacy := testCronJob()
	legacy.Spec.Schedule = "TZ=UTC 0 3 * * *"
	legacy.Name = strings.Repeat("a", 60)
	// A schedule that already carried TZ= and an over-long name stay updatable.
	checkErrors(t, "legacy", updateErrors(r, mutated(legacy, func(c *batchv1.CronJob) { c.Spec.Suspend = ptr.To(true) }), legacy.DeepCopy()), nil)
	checkErrors(t, "legacy with timeZone", updateErrors(r, mutated(legacy, func(c *batchv1.CronJob) { c.Spec.TimeZone = ptr.To("UTC") }), legacy.DeepCopy()),
		[]string{"spec.schedule: Invalid value: cannot use both timeZone field and TZ or CRON_TZ in schedule"})
}

func TestCronJobTable(t *testing.T) {
	r := groupResource(t, "cronjobs")
	if diff := cmp.Diff([]string{"NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE", "CONTAINERS*", "IMAGES*", "SELECTOR*"},
		columnNames(r)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	c := testCronJob()
	r.Default(c)
	c.Status.Active = []corev1.ObjectReference{{Name: "nightly-1"}}
	checkRow(t, r, c, []any{"nightly", "0 3 * * *", "<none>", "False", int64(1), "<none>", "AGE", "web", "nginx:1.27", "<none>"})
}
