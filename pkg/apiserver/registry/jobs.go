package registry

import (
	"fmt"
	"maps"
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// The unprefixed job labels Kubernetes still puts on job pods next to
// batch.kubernetes.io/job-name and batch.kubernetes.io/controller-uid.
const (
	legacyJobNameLabel       = "job-name"
	legacyControllerUIDLabel = "controller-uid"
)

// Limits of indexed jobs and pod failure policies.
const (
	maxIndexedJobParallelism   = 100000
	maxPodFailurePolicyRules   = 20
	maxPodFailureExitCodes     = 255
	maxPodFailureConditionRule = 20
	maxJobManagedByLength      = 63
)

func jobsResource() *Resource {
	return &Resource{
		Group: "batch", Version: "v1", Name: "jobs", Kind: "Job", Singular: "job",
		Categories:       []string{"all"},
		Namespaced:       true,
		New:              func() runtime.Object { return &batchv1.Job{} },
		NewList:          func() runtime.Object { return &batchv1.JobList{} },
		Status:           true,
		Default:          typedMutate(defaultJob),
		PrepareForCreate: typedMutate(prepareJobForCreate),
		Validate:         typedValidate(validateJob),
		ValidateUpdate:   typedValidateUpdate(validateJobUpdate),
		ValidateStatusUpdate: typedValidateUpdate(func(j, _ *batchv1.Job) field.ErrorList {
			s := &j.Status
			errs := validateNonnegatives(field.NewPath("status"), map[string]int64{
				"active": int64(s.Active), "succeeded": int64(s.Succeeded), "failed": int64(s.Failed),
			})
			if s.Ready != nil {
				errs = append(errs, validateNonnegative(int64(*s.Ready), field.NewPath("status", "ready"))...)
			}
			if s.Terminating != nil {
				errs = append(errs, validateNonnegative(int64(*s.Terminating), field.NewPath("status", "terminating"))...)
			}
			return errs
		}),
		Fields: typedFields(func(j *batchv1.Job) fields.Set {
			return fields.Set{"status.successful": strconv.Itoa(int(j.Status.Succeeded))}
		}),
		Table: jobsTable(),
	}
}

func defaultJob(j *batchv1.Job) {
	spec := &j.Spec
	if spec.Completions == nil && spec.Parallelism == nil {
		spec.Completions = ptr.To[int32](1)
	}
	if spec.Parallelism == nil {
		spec.Parallelism = ptr.To[int32](1)
	}
	if spec.BackoffLimit == nil {
		if spec.BackoffLimitPerIndex != nil {
			spec.BackoffLimit = ptr.To[int32](1<<31 - 1)
		} else {
			spec.BackoffLimit = ptr.To[int32](6)
		}
	}
	if len(j.Labels) == 0 && spec.Template.Labels != nil {
		j.Labels = maps.Clone(spec.Template.Labels)
	}
	if spec.CompletionMode == nil {
		spec.CompletionMode = ptr.To(batchv1.NonIndexedCompletion)
	}
	if spec.Suspend == nil {
		spec.Suspend = ptr.To(false)
	}
	if spec.ManualSelector == nil {
		spec.ManualSelector = ptr.To(false)
	}
	if spec.PodFailurePolicy != nil {
		for _, rule := range spec.PodFailurePolicy.Rules {
			for i := range rule.OnPodConditions {
				if rule.OnPodConditions[i].Status == "" {
					rule.OnPodConditions[i].Status = corev1.ConditionTrue
				}
			}
		}
	}
	if spec.PodReplacementPolicy == nil {
		if spec.PodFailurePolicy != nil {
			spec.PodReplacementPolicy = ptr.To(batchv1.Failed)
		} else {
			spec.PodReplacementPolicy = ptr.To(batchv1.TerminatingOrFailed)
		}
	}
	DefaultPodSpec(&spec.Template.Spec)
}

// prepareJobForCreate clears the status and, unless the selector is
// manual, labels the pod template with the job's name and uid and selects
// on the uid, so a job's pods are never shared. The uid is set before this
// runs. A job without labels of its own, or whose labels were copied from
// its template, shows the template's labels including the generated ones,
// as Kubernetes does (it defaults them again on every read).
func prepareJobForCreate(j *batchv1.Job) {
	j.Status = batchv1.JobStatus{}
	if ptr.Deref(j.Spec.ManualSelector, false) {
		return
	}
	inherited := len(j.Labels) == 0 || maps.Equal(j.Labels, j.Spec.Template.Labels)
	if j.Spec.Template.Labels == nil {
		j.Spec.Template.Labels = map[string]string{}
	}
	tl := j.Spec.Template.Labels
	for key, value := range map[string]string{
		legacyJobNameLabel: j.Name, batchv1.JobNameLabel: j.Name,
		legacyControllerUIDLabel: string(j.UID), batchv1.ControllerUidLabel: string(j.UID),
	} {
		if _, set := tl[key]; !set {
			tl[key] = value
		}
	}
	if j.Spec.Selector == nil {
		j.Spec.Selector = &metav1.LabelSelector{}
	}
	if j.Spec.Selector.MatchLabels == nil {
		j.Spec.Selector.MatchLabels = map[string]string{}
	}
	if _, set := j.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel]; !set {
		j.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel] = string(j.UID)
	}
	if inherited {
		j.Labels = maps.Clone(tl)
	}
}

func validateJob(j *batchv1.Job) field.ErrorList {
	errs := validateGeneratedJobSelector(j)
	errs = append(errs, validateJobSpecWithSelector(&j.Spec, field.NewPath("spec"))...)
	if ptr.Deref(j.Spec.CompletionMode, "") == batchv1.IndexedCompletion && ptr.Deref(j.Spec.Completions, 0) > 0 {
		// Indexed pods get the hostname <job>-<index>, which must be a DNS label.
		host := fmt.Sprintf("%s-%d", j.Name, *j.Spec.Completions-1)
		if len(validation.IsDNS1123Label(host)) > 0 {
			errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), j.Name,
				"will not able to create pod with invalid DNS label: "+host))
		}
	}
	return errs
}

// validateGeneratedJobSelector checks that a generated selector and the
// template labels still name this job.
func validateGeneratedJobSelector(j *batchv1.Job) field.ErrorList {
	if ptr.Deref(j.Spec.ManualSelector, false) || j.Spec.Selector == nil {
		return nil
	}
	var errs field.ErrorList
	if j.UID == "" {
		errs = append(errs, field.Required(field.NewPath("metadata", "uid"), ""))
	}
	metaPath := field.NewPath("spec", "template", "metadata")
	expected := map[string]string{
		legacyControllerUIDLabel: string(j.UID), legacyJobNameLabel: j.Name,
		batchv1.ControllerUidLabel: string(j.UID), batchv1.JobNameLabel: j.Name,
	}
	for _, key := range []string{legacyControllerUIDLabel, legacyJobNameLabel, batchv1.ControllerUidLabel, batchv1.JobNameLabel} {
		got, ok := j.Spec.Template.Labels[key]
		switch {
		case !ok:
			errs = append(errs, field.Required(metaPath.Child("labels").Key(key), "must be '"+expected[key]+"'"))
		case got != expected[key]:
			errs = append(errs, field.Invalid(metaPath.Child("labels").Key(key), got, "must be '"+expected[key]+"'"))
		}
	}
	if sel, err := metav1.LabelSelectorAsSelector(j.Spec.Selector); err == nil && !sel.Matches(labels.Set(expected)) {
		errs = append(errs, field.Invalid(field.NewPath("spec", "selector"), j.Spec.Selector, "`selector` not auto-generated"))
	}
	return errs
}

// validateJobSpecWithSelector validates a Job's spec, whose selector is
// required and must select the template.
func validateJobSpecWithSelector(spec *batchv1.JobSpec, path *field.Path) field.ErrorList {
	errs := validateJobSpec(spec, path)
	if spec.Selector == nil {
		errs = append(errs, field.Required(path.Child("selector"), ""))
	} else {
		errs = append(errs, metavalidation.ValidateLabelSelector(spec.Selector, metavalidation.LabelSelectorValidationOptions{}, path.Child("selector"))...)
	}
	if sel, err := metav1.LabelSelectorAsSelector(spec.Selector); err == nil && !sel.Matches(labels.Set(spec.Template.Labels)) {
		errs = append(errs, field.Invalid(path.Child("template", "metadata", "labels"), spec.Template.Labels, "`selector` does not match template `labels`"))
	}
	return errs
}

// validateJobSpec checks a job spec except its selector; CronJob job
// templates share it.
func validateJobSpec(spec *batchv1.JobSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, f := range []struct {
		name  string
		value *int32
	}{{"parallelism", spec.Parallelism}, {"completions", spec.Completions}, {"backoffLimit", spec.BackoffLimit},
		{"ttlSecondsAfterFinished", spec.TTLSecondsAfterFinished}, {"backoffLimitPerIndex", spec.BackoffLimitPerIndex},
		{"maxFailedIndexes", spec.MaxFailedIndexes}} {
		if f.value != nil {
			errs = append(errs, validateNonnegative(int64(*f.value), path.Child(f.name))...)
		}
	}
	if spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, validateNonnegative(*spec.ActiveDeadlineSeconds, path.Child("activeDeadlineSeconds"))...)
	}
	if spec.MaxFailedIndexes != nil && spec.BackoffLimitPerIndex == nil {
		errs = append(errs, field.Required(path.Child("backoffLimitPerIndex"), "when maxFailedIndexes is specified"))
	}
	if spec.ManagedBy != nil {
		errs = append(errs, validation.IsDomainPrefixedPath(path.Child("managedBy"), *spec.ManagedBy)...)
		if len(*spec.ManagedBy) > maxJobManagedByLength {
			errs = append(errs, field.TooLong(path.Child("managedBy"), *spec.ManagedBy, maxJobManagedByLength))
		}
	}
	errs = append(errs, validateJobCompletionMode(spec, path)...)
	if spec.PodFailurePolicy != nil {
		errs = append(errs, validatePodFailurePolicy(spec.PodFailurePolicy, path.Child("podFailurePolicy"))...)
	}
	if spec.SuccessPolicy != nil && ptr.Deref(spec.CompletionMode, batchv1.NonIndexedCompletion) != batchv1.IndexedCompletion {
		errs = append(errs, field.Invalid(path.Child("successPolicy"), *spec.SuccessPolicy, "requires indexed completion mode"))
	}
	if p := spec.PodReplacementPolicy; p != nil {
		if spec.PodFailurePolicy != nil {
			if *p != batchv1.Failed {
				errs = append(errs, field.NotSupported(path.Child("podReplacementPolicy"), *p, []batchv1.PodReplacementPolicy{batchv1.Failed}))
			}
		} else {
			errs = append(errs, validateEnum(*p, path.Child("podReplacementPolicy"), batchv1.Failed, batchv1.TerminatingOrFailed)...)
		}
	}
	errs = append(errs, ValidatePodTemplateSpec(&spec.Template, path.Child("template"))...)
	restartPath := path.Child("template", "spec", "restartPolicy")
	switch rp := spec.Template.Spec.RestartPolicy; {
	case rp == corev1.RestartPolicyAlways || rp == "":
		errs = append(errs, field.Required(restartPath, fmt.Sprintf("valid values: %q, %q", corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever)))
	case rp != corev1.RestartPolicyOnFailure && rp != corev1.RestartPolicyNever:
		errs = append(errs, field.NotSupported(restartPath, rp, []corev1.RestartPolicy{corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}))
	case spec.PodFailurePolicy != nil && rp != corev1.RestartPolicyNever:
		errs = append(errs, field.Invalid(restartPath, rp, fmt.Sprintf("only %q is supported when podFailurePolicy is specified", corev1.RestartPolicyNever)))
	}
	return errs
}

func validateJobCompletionMode(spec *batchv1.JobSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	mode := ptr.Deref(spec.CompletionMode, batchv1.NonIndexedCompletion)
	switch mode {
	case batchv1.NonIndexedCompletion:
		if spec.BackoffLimitPerIndex != nil {
			errs = append(errs, field.Invalid(path.Child("backoffLimitPerIndex"), *spec.BackoffLimitPerIndex, "requires indexed completion mode"))
		}
		if spec.MaxFailedIndexes != nil {
			errs = append(errs, field.Invalid(path.Child("maxFailedIndexes"), *spec.MaxFailedIndexes, "requires indexed completion mode"))
		}
	case batchv1.IndexedCompletion:
		if spec.Completions == nil {
			errs = append(errs, field.Required(path.Child("completions"), "when completion mode is Indexed"))
		}
		if p := ptr.Deref(spec.Parallelism, 0); p > maxIndexedJobParallelism {
			errs = append(errs, field.Invalid(path.Child("parallelism"), p,
				fmt.Sprintf("must be less than or equal to %d when completion mode is Indexed", maxIndexedJobParallelism)))
		}
		if spec.Completions != nil && spec.MaxFailedIndexes != nil && *spec.MaxFailedIndexes > *spec.Completions {
			errs = append(errs, field.Invalid(path.Child("maxFailedIndexes"), *spec.MaxFailedIndexes, "must be less than or equal to completions"))
		}
	default:
		errs = append(errs, field.NotSupported(path.Child("completionMode"), mode, []batchv1.CompletionMode{batchv1.NonIndexedCompletion, batchv1.IndexedCompletion}))
	}
	return errs
}

func validatePodFailurePolicy(p *batchv1.PodFailurePolicy, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	rulesPath := path.Child("rules")
	if len(p.Rules) > maxPodFailurePolicyRules {
		errs = append(errs, field.TooMany(rulesPath, len(p.Rules), maxPodFailurePolicyRules))
	}
	for i, rule := range p.Rules {
		rPath := rulesPath.Index(i)
		errs = append(errs, validateEnum(rule.Action, rPath.Child("action"), batchv1.PodFailurePolicyActionCount,
			batchv1.PodFailurePolicyActionFailIndex, batchv1.PodFailurePolicyActionFailJob, batchv1.PodFailurePolicyActionIgnore)...)
		switch {
		case rule.OnExitCodes == nil && len(rule.OnPodConditions) == 0:
			errs = append(errs, field.Invalid(rPath, field.OmitValueType{}, "specifying one of OnExitCodes and OnPodConditions is required"))
		case rule.OnExitCodes != nil && len(rule.OnPodConditions) > 0:
			errs = append(errs, field.Invalid(rPath, field.OmitValueType{}, "specifying both OnExitCodes and OnPodConditions is not supported"))
		case rule.OnExitCodes != nil:
			ec := rule.OnExitCodes
			ecPath := rPath.Child("onExitCodes")
			errs = append(errs, validateEnum(ec.Operator, ecPath.Child("operator"), batchv1.PodFailurePolicyOnExitCodesOpIn, batchv1.PodFailurePolicyOnExitCodesOpNotIn)...)
			if len(ec.Values) == 0 {
				errs = append(errs, field.Required(ecPath.Child("values"), "at least one value is required"))
			} else if len(ec.Values) > maxPodFailureExitCodes {
				errs = append(errs, field.TooMany(ecPath.Child("values"), len(ec.Values), maxPodFailureExitCodes))
			}
		default:
			if len(rule.OnPodConditions) > maxPodFailureConditionRule {
				errs = append(errs, field.TooMany(rPath.Child("onPodConditions"), len(rule.OnPodConditions), maxPodFailureConditionRule))
			}
		}
	}
	return errs
}

func validateJobUpdate(j, old *batchv1.Job) field.ErrorList {
	path := field.NewPath("spec")
	spec, oldSpec := &j.Spec, &old.Spec
	errs := validateJobSpecWithSelector(spec, path)
	indexed := ptr.Deref(spec.CompletionMode, "") == batchv1.IndexedCompletion
	// Indexed jobs scale by changing completions and parallelism together.
	if !indexed {
		errs = append(errs, validateImmutable(spec.Completions, oldSpec.Completions, path.Child("completions"))...)
	} else if spec.Completions != nil && !ptr.Equal(spec.Completions, oldSpec.Completions) && *spec.Completions != ptr.Deref(spec.Parallelism, 0) {
		errs = append(errs, field.Invalid(path.Child("completions"), spec.Completions, "can only be modified in tandem with spec.parallelism"))
	}
	errs = append(errs, validateImmutable(spec.Selector, oldSpec.Selector, path.Child("selector"))...)
	errs = append(errs, validateJobTemplateUpdate(j, old)...)
	errs = append(errs, validateImmutable(spec.CompletionMode, oldSpec.CompletionMode, path.Child("completionMode"))...)
	errs = append(errs, validateImmutable(spec.PodFailurePolicy, oldSpec.PodFailurePolicy, path.Child("podFailurePolicy"))...)
	errs = append(errs, validateImmutable(spec.BackoffLimitPerIndex, oldSpec.BackoffLimitPerIndex, path.Child("backoffLimitPerIndex"))...)
	errs = append(errs, validateImmutable(spec.ManagedBy, oldSpec.ManagedBy, path.Child("managedBy"))...)
	errs = append(errs, validateImmutable(spec.SuccessPolicy, oldSpec.SuccessPolicy, path.Child("successPolicy"))...)
	return errs
}

// validateJobTemplateUpdate keeps the pod template fixed, except that a
// suspended job that never started may change where its pods will run
// (node selector and affinity, tolerations, scheduling gates) and the
// template's labels and annotations.
func validateJobTemplateUpdate(j, old *batchv1.Job) field.ErrorList {
	oldTemplate := &old.Spec.Template
	if ptr.Deref(old.Spec.Suspend, false) && old.Status.StartTime == nil {
		t := &j.Spec.Template
		oldTemplate = oldTemplate.DeepCopy()
		oldTemplate.Labels, oldTemplate.Annotations = t.Labels, t.Annotations
		oldTemplate.Spec.NodeSelector, oldTemplate.Spec.Tolerations = t.Spec.NodeSelector, t.Spec.Tolerations
		oldTemplate.Spec.SchedulingGates = t.Spec.SchedulingGates
		switch {
		case t.Spec.Affinity == nil && oldTemplate.Spec.Affinity != nil:
			oldTemplate.Spec.Affinity.NodeAffinity = nil
			if *oldTemplate.Spec.Affinity == (corev1.Affinity{}) {
				oldTemplate.Spec.Affinity = nil
			}
		case t.Spec.Affinity != nil && oldTemplate.Spec.Affinity == nil:
			oldTemplate.Spec.Affinity = &corev1.Affinity{NodeAffinity: t.Spec.Affinity.NodeAffinity}
		case t.Spec.Affinity != nil:
			oldTemplate.Spec.Affinity.NodeAffinity = t.Spec.Affinity.NodeAffinity
		}
	}
	return validateImmutable(&j.Spec.Template, oldTemplate, field.NewPath("spec", "template"))
}

func jobsTable() *Table {
	cols := []metav1.TableColumnDefinition{
		nameColumn(),
		tableColumn("Status", "string", "Status of the job.", 0),
		tableColumn("Completions", "string", batchv1.JobStatus{}.SwaggerDoc()["succeeded"], 0),
		tableColumn("Duration", "string", "Time required to complete the job.", 0),
		ageColumn(),
	}
	cols = append(cols, workloadColumns(batchv1.JobSpec{}.SwaggerDoc()["selector"])...)
	return &Table{Columns: cols, Row: tableRow(func(j *batchv1.Job) []any {
		names, images := containerCells(j.Spec.Template.Spec.Containers)
		return []any{j.Name, jobStatusCell(j), jobCompletionsCell(j), jobDurationCell(j), formatAge(j.CreationTimestamp),
			names, images, metav1.FormatLabelSelector(j.Spec.Selector)}
	})}
}

func jobCompletionsCell(j *batchv1.Job) string {
	if j.Spec.Completions != nil {
		return fmt.Sprintf("%d/%d", j.Status.Succeeded, *j.Spec.Completions)
	}
	if p := ptr.Deref(j.Spec.Parallelism, 0); p > 1 {
		return fmt.Sprintf("%d/1 of %d", j.Status.Succeeded, p)
	}
	return fmt.Sprintf("%d/1", j.Status.Succeeded)
}

func jobDurationCell(j *batchv1.Job) string {
	switch {
	case j.Status.StartTime == nil:
		return ""
	case j.Status.CompletionTime == nil:
		return duration.HumanDuration(time.Since(j.Status.StartTime.Time))
	default:
		return duration.HumanDuration(j.Status.CompletionTime.Sub(j.Status.StartTime.Time))
	}
}

func jobStatusCell(j *batchv1.Job) string {
	switch {
	case jobCondition(j, batchv1.JobComplete):
		return "Complete"
	case jobCondition(j, batchv1.JobFailed):
		return "Failed"
	case j.DeletionTimestamp != nil:
		return "Terminating"
	case jobCondition(j, batchv1.JobSuspended):
		return "Suspended"
	case jobCondition(j, batchv1.JobFailureTarget):
		return "FailureTarget"
	}
	return "Running"
}

// jobCondition reports whether the first condition of type t is True.
func jobCondition(j *batchv1.Job, t batchv1.JobConditionType) bool {
	for _, c := range j.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
