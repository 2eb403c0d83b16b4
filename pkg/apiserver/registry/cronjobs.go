package registry

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/pkg/cron"
)

// maxCronJobNameLength leaves room for the 11-character suffix the
// controller appends to name each job (jobs are limited to 63).
const maxCronJobNameLength = 52

// timeZoneComponent is one "/"-separated part of an IANA zone name (digits
// and '+' are tolerated for legacy names).
var timeZoneComponent = regexp.MustCompile(`^[A-Za-z\.\-_0-9+]{1,14}$`)

func cronJobsResource() *Resource {
	return &Resource{
		Group: "batch", Version: "v1", Name: "cronjobs", Kind: "CronJob", Singular: "cronjob",
		ShortNames:       []string{"cj"},
		Categories:       []string{"all"},
		Namespaced:       true,
		New:              func() runtime.Object { return &batchv1.CronJob{} },
		NewList:          func() runtime.Object { return &batchv1.CronJobList{} },
		Status:           true,
		Default:          typedMutate(defaultCronJob),
		PrepareForCreate: typedMutate(func(c *batchv1.CronJob) { c.Status = batchv1.CronJobStatus{} }),
		Validate: typedValidate(func(c *batchv1.CronJob) field.ErrorList {
			errs := validateCronJobSpec(&c.Spec, nil)
			if len(c.Name) > maxCronJobNameLength {
				errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), c.Name,
					fmt.Sprintf("must be no more than %d characters", maxCronJobNameLength)))
			}
			return errs
		}),
		// Longer names created before the limit existed stay updatable.
		ValidateUpdate: typedValidateUpdate(func(c, old *batchv1.CronJob) field.ErrorList {
			return validateCronJobSpec(&c.Spec, &old.Spec)
		}),
		Table: cronJobsTable(),
	}
}

func defaultCronJob(c *batchv1.CronJob) {
	spec := &c.Spec
	if spec.ConcurrencyPolicy == "" {
		spec.ConcurrencyPolicy = batchv1.AllowConcurrent
	}
	if spec.Suspend == nil {
		spec.Suspend = ptr.To(false)
	}
	if spec.SuccessfulJobsHistoryLimit == nil {
		spec.SuccessfulJobsHistoryLimit = ptr.To[int32](3)
	}
	if spec.FailedJobsHistoryLimit == nil {
		spec.FailedJobsHistoryLimit = ptr.To[int32](1)
	}
	DefaultPodSpec(&spec.JobTemplate.Spec.Template.Spec)
}

// validateCronJobSpec checks a spec; old is the stored spec on update
// (nil on create), which may keep a legacy TZ= schedule and an unchanged
// time zone.
func validateCronJobSpec(spec, old *batchv1.CronJobSpec) field.ErrorList {
	path := field.NewPath("spec")
	var errs field.ErrorList
	if spec.Schedule == "" {
		errs = append(errs, field.Required(path.Child("schedule"), ""))
	} else {
		allowTZ := old != nil && strings.Contains(old.Schedule, "TZ")
		errs = append(errs, validateSchedule(spec.Schedule, allowTZ, spec.TimeZone, path.Child("schedule"))...)
	}
	if spec.StartingDeadlineSeconds != nil {
		errs = append(errs, validateNonnegative(*spec.StartingDeadlineSeconds, path.Child("startingDeadlineSeconds"))...)
	}
	if old == nil || !ptr.Equal(old.TimeZone, spec.TimeZone) {
		errs = append(errs, validateTimeZone(spec.TimeZone, path.Child("timeZone"))...)
	}
	errs = append(errs, validateEnum(spec.ConcurrencyPolicy, path.Child("concurrencyPolicy"),
		batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent)...)
	errs = append(errs, validateJobTemplate(&spec.JobTemplate, path.Child("jobTemplate"))...)
	if spec.SuccessfulJobsHistoryLimit != nil {
		errs = append(errs, validateNonnegative(int64(*spec.SuccessfulJobsHistoryLimit), path.Child("successfulJobsHistoryLimit"))...)
	}
	if spec.FailedJobsHistoryLimit != nil {
		errs = append(errs, validateNonnegative(int64(*spec.FailedJobsHistoryLimit), path.Child("failedJobsHistoryLimit"))...)
	}
	return errs
}

// validateSchedule parses the schedule; a TZ= or CRON_TZ= prefix is only
// kept by updates of schedules that already had one, as spec.timeZone
// replaced it.
func validateSchedule(schedule string, allowTZ bool, timeZone *string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if _, err := cron.Parse(schedule); err != nil {
		errs = append(errs, field.Invalid(path, schedule, err.Error()))
	}
	hasTZ := strings.Contains(schedule, "TZ")
	switch {
	case allowTZ && hasTZ && timeZone != nil:
		errs = append(errs, field.Invalid(path, schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"))
	case !allowTZ && hasTZ:
		errs = append(errs, field.Invalid(path, schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
	}
	return errs
}

// validateTimeZone accepts nil or an explicit IANA zone name the server
// can load.
func validateTimeZone(tz *string, path *field.Path) field.ErrorList {
	if tz == nil {
		return nil
	}
	if *tz == "" {
		return field.ErrorList{field.Invalid(path, tz, "timeZone must be nil or non-empty string")}
	}
	for _, part := range strings.Split(*tz, "/") {
		if part == "." || part == ".." || strings.HasPrefix(part, "-") || !timeZoneComponent.MatchString(part) {
			return field.ErrorList{field.Invalid(path, tz, "unknown time zone "+*tz)}
		}
	}
	var errs field.ErrorList
	if strings.EqualFold(*tz, "Local") {
		errs = append(errs, field.Invalid(path, tz, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"))
	}
	if _, err := time.LoadLocation(*tz); err != nil {
		errs = append(errs, field.Invalid(path, tz, err.Error()))
	}
	return errs
}

// validateJobTemplate checks a CronJob's job template: a valid job spec
// whose selector the job will generate.
func validateJobTemplate(t *batchv1.JobTemplateSpec, path *field.Path) field.ErrorList {
	specPath := path.Child("spec")
	errs := validateJobSpec(&t.Spec, specPath)
	if t.Spec.Selector != nil {
		errs = append(errs, field.Invalid(specPath.Child("selector"), t.Spec.Selector, "`selector` will be auto-generated"))
	}
	if ptr.Deref(t.Spec.ManualSelector, false) {
		errs = append(errs, field.NotSupported(specPath.Child("manualSelector"), t.Spec.ManualSelector, []string{"nil", "false"}))
	}
	return errs
}

func cronJobsTable() *Table {
	spec, status := batchv1.CronJobSpec{}.SwaggerDoc(), batchv1.CronJobStatus{}.SwaggerDoc()
	cols := []metav1.TableColumnDefinition{
		nameColumn(),
		tableColumn("Schedule", "string", spec["schedule"], 0),
		tableColumn("Timezone", "string", spec["timeZone"], 0),
		tableColumn("Suspend", "boolean", spec["suspend"], 0),
		tableColumn("Active", "integer", status["active"], 0),
		tableColumn("Last Schedule", "string", status["lastScheduleTime"], 0),
		ageColumn(),
	}
	cols = append(cols, workloadColumns(batchv1.JobSpec{}.SwaggerDoc()["selector"])...)
	return &Table{Columns: cols, Row: tableRow(func(c *batchv1.CronJob) []any {
		last := noneCell
		if c.Status.LastScheduleTime != nil {
			last = formatAge(*c.Status.LastScheduleTime)
		}
		suspend := "<unset>"
		if c.Spec.Suspend != nil {
			suspend = "False"
			if *c.Spec.Suspend {
				suspend = "True"
			}
		}
		names, images := containerCells(c.Spec.JobTemplate.Spec.Template.Spec.Containers)
		return []any{c.Name, c.Spec.Schedule, ptr.Deref(c.Spec.TimeZone, noneCell), suspend, int64(len(c.Status.Active)),
			last, formatAge(c.CreationTimestamp), names, images, metav1.FormatLabelSelector(c.Spec.JobTemplate.Spec.Selector)}
	})}
}
