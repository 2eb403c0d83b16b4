package registry

import (
	"fmt"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	pathvalidation "k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// Bounds of HPA scaling behavior.
const (
	maxStabilizationWindowSeconds = 3600
	maxScalingPolicyPeriodSeconds = 1800
	defaultCPUUtilization         = 80
)

func horizontalPodAutoscalersResource() *Resource {
	return &Resource{
		Group: "autoscaling", Version: "v2", Name: "horizontalpodautoscalers", Kind: "HorizontalPodAutoscaler",
		Singular:     "horizontalpodautoscaler",
		ShortNames:   []string{"hpa"},
		Categories:   []string{"all"},
		Namespaced:   true,
		New:          func() runtime.Object { return &autoscalingv2.HorizontalPodAutoscaler{} },
		NewList:      func() runtime.Object { return &autoscalingv2.HorizontalPodAutoscalerList{} },
		Status:       true,
		NoGeneration: true,
		Default:      typedMutate(defaultHPA),
		PrepareForCreate: typedMutate(func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Status = autoscalingv2.HorizontalPodAutoscalerStatus{}
		}),
		Validate: typedValidate(validateHPA),
		ValidateUpdate: typedValidateUpdate(func(h, _ *autoscalingv2.HorizontalPodAutoscaler) field.ErrorList {
			return validateHPA(h)
		}),
		ValidateStatusUpdate: typedValidateUpdate(func(h, _ *autoscalingv2.HorizontalPodAutoscaler) field.ErrorList {
			s := &h.Status
			return validateNonnegatives(field.NewPath("status"), map[string]int64{
				"currentReplicas": int64(s.CurrentReplicas), "desiredReplicas": int64(s.DesiredReplicas),
			})
		}),
		Table: hpaTable(),
	}
}

func defaultHPA(h *autoscalingv2.HorizontalPodAutoscaler) {
	spec := &h.Spec
	if spec.MinReplicas == nil {
		spec.MinReplicas = ptr.To[int32](1)
	}
	if len(spec.Metrics) == 0 {
		spec.Metrics = []autoscalingv2.MetricSpec{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU,
				Target: autoscalingv2.MetricTarget{
					Type:               autoscalingv2.UtilizationMetricType,
					AverageUtilization: ptr.To[int32](defaultCPUUtilization),
				},
			},
		}}
	}
	if spec.Behavior != nil {
		spec.Behavior.ScaleUp = fillScalingRules(spec.Behavior.ScaleUp, autoscalingv2.HPAScalingRules{
			StabilizationWindowSeconds: ptr.To[int32](0),
			SelectPolicy:               ptr.To(autoscalingv2.MaxChangePolicySelect),
			Policies: []autoscalingv2.HPAScalingPolicy{
				{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
				{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
			},
		})
		spec.Behavior.ScaleDown = fillScalingRules(spec.Behavior.ScaleDown, autoscalingv2.HPAScalingRules{
			StabilizationWindowSeconds: ptr.To[int32](300),
			SelectPolicy:               ptr.To(autoscalingv2.MaxChangePolicySelect),
			Policies: []autoscalingv2.HPAScalingPolicy{
				{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
			},
		})
	}
}

// fillScalingRules completes rules with the defaults for every unset part.
func fillScalingRules(rules *autoscalingv2.HPAScalingRules, defaults autoscalingv2.HPAScalingRules) *autoscalingv2.HPAScalingRules {
	if rules == nil {
		return &defaults
	}
	if rules.StabilizationWindowSeconds == nil {
		rules.StabilizationWindowSeconds = defaults.StabilizationWindowSeconds
	}
	if rules.SelectPolicy == nil {
		rules.SelectPolicy = defaults.SelectPolicy
	}
	if rules.Policies == nil {
		rules.Policies = defaults.Policies
	}
	return rules
}

func validateHPA(h *autoscalingv2.HorizontalPodAutoscaler) field.ErrorList {
	spec := &h.Spec
	path := field.NewPath("spec")
	errs := validateScaleTargetRef(spec.ScaleTargetRef, path.Child("scaleTargetRef"))
	if spec.MinReplicas != nil && *spec.MinReplicas < 1 {
		errs = append(errs, field.Invalid(path.Child("minReplicas"), *spec.MinReplicas, "must be greater than or equal to 1"))
	}
	if spec.MaxReplicas < 1 {
		errs = append(errs, field.Invalid(path.Child("maxReplicas"), spec.MaxReplicas, "must be greater than 0"))
	}
	if spec.MinReplicas != nil && spec.MaxReplicas < *spec.MinReplicas {
		errs = append(errs, field.Invalid(path.Child("maxReplicas"), spec.MaxReplicas, "must be greater than or equal to `minReplicas`"))
	}
	for i := range spec.Metrics {
		errs = append(errs, validateMetricSpec(&spec.Metrics[i], path.Child("metrics").Index(i))...)
	}
	if b := spec.Behavior; b != nil {
		errs = append(errs, validateScalingRules(b.ScaleUp, path.Child("behavior", "scaleUp"))...)
		errs = append(errs, validateScalingRules(b.ScaleDown, path.Child("behavior", "scaleDown"))...)
	}
	return errs
}

func validateScaleTargetRef(ref autoscalingv2.CrossVersionObjectReference, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, f := range []struct{ name, value string }{{"kind", ref.Kind}, {"name", ref.Name}} {
		if f.value == "" {
			errs = append(errs, field.Required(path.Child(f.name), ""))
			continue
		}
		for _, msg := range pathvalidation.IsValidPathSegmentName(f.value) {
			errs = append(errs, field.Invalid(path.Child(f.name), f.value, msg))
		}
	}
	return errs
}

// validateMetricSpec checks that the source named by type is the one set
// and that its target fits it.
func validateMetricSpec(m *autoscalingv2.MetricSpec, path *field.Path) field.ErrorList {
	sources := map[autoscalingv2.MetricSourceType]bool{
		autoscalingv2.ObjectMetricSourceType:            m.Object != nil,
		autoscalingv2.PodsMetricSourceType:              m.Pods != nil,
		autoscalingv2.ResourceMetricSourceType:          m.Resource != nil,
		autoscalingv2.ContainerResourceMetricSourceType: m.ContainerResource != nil,
		autoscalingv2.ExternalMetricSourceType:          m.External != nil,
	}
	if m.Type == "" {
		return field.ErrorList{field.Required(path.Child("type"), "must specify a metric source type")}
	}
	set, known := sources[m.Type]
	if !known {
		return field.ErrorList{field.NotSupported(path.Child("type"), m.Type, []autoscalingv2.MetricSourceType{
			autoscalingv2.ContainerResourceMetricSourceType, autoscalingv2.ExternalMetricSourceType,
			autoscalingv2.ObjectMetricSourceType, autoscalingv2.PodsMetricSourceType, autoscalingv2.ResourceMetricSourceType})}
	}
	srcPath := path.Child(metricSourceField(m.Type))
	if !set {
		return field.ErrorList{field.Required(srcPath, "must populate information for the given metric source")}
	}
	count := 0
	for _, s := range sources {
		if s {
			count++
		}
	}
	if count > 1 {
		return field.ErrorList{field.Forbidden(path, "must populate the given metric source only")}
	}
	switch m.Type {
	case autoscalingv2.ResourceMetricSourceType:
		return validateResourceMetric(m.Resource.Name, "", false, m.Resource.Target, srcPath)
	case autoscalingv2.ContainerResourceMetricSourceType:
		return validateResourceMetric(m.ContainerResource.Name, m.ContainerResource.Container, true, m.ContainerResource.Target, srcPath)
	case autoscalingv2.PodsMetricSourceType:
		errs := validateMetricName(m.Pods.Metric.Name, srcPath.Child("metric", "name"))
		if m.Pods.Target.Type != autoscalingv2.AverageValueMetricType {
			errs = append(errs, field.NotSupported(srcPath.Child("target", "type"), m.Pods.Target.Type, []autoscalingv2.MetricTargetType{autoscalingv2.AverageValueMetricType}))
		}
		return append(errs, validateMetricTarget(m.Pods.Target, srcPath.Child("target"))...)
	case autoscalingv2.ObjectMetricSourceType:
		errs := validateMetricName(m.Object.Metric.Name, srcPath.Child("metric", "name"))
		errs = append(errs, validateScaleTargetRef(autoscalingv2.CrossVersionObjectReference(m.Object.DescribedObject), srcPath.Child("describedObject"))...)
		return append(errs, validateMetricTarget(m.Object.Target, srcPath.Child("target"))...)
	default:
		errs := validateMetricName(m.External.Metric.Name, srcPath.Child("metric", "name"))
		return append(errs, validateMetricTarget(m.External.Target, srcPath.Child("target"))...)
	}
}

func metricSourceField(t autoscalingv2.MetricSourceType) string {
	if t == autoscalingv2.ContainerResourceMetricSourceType {
		return "containerResource"
	}
	return strings.ToLower(string(t))
}

func validateMetricName(name string, path *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(path, "must specify a metric name")}
	}
	return nil
}

func validateResourceMetric(name corev1.ResourceName, container string, needContainer bool, target autoscalingv2.MetricTarget, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(path.Child("name"), "must specify a resource name"))
	}
	if needContainer && container == "" {
		errs = append(errs, field.Required(path.Child("container"), "must specify a container"))
	}
	if target.Type == autoscalingv2.ValueMetricType {
		errs = append(errs, field.NotSupported(path.Child("target", "type"), target.Type,
			[]autoscalingv2.MetricTargetType{autoscalingv2.UtilizationMetricType, autoscalingv2.AverageValueMetricType}))
	}
	return append(errs, validateMetricTarget(target, path.Child("target"))...)
}

// validateMetricTarget checks that the value field matching the target
// type is set and positive.
func validateMetricTarget(t autoscalingv2.MetricTarget, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch t.Type {
	case "":
		return field.ErrorList{field.Required(path.Child("type"), "must specify a metric target type")}
	case autoscalingv2.UtilizationMetricType:
		if t.AverageUtilization == nil {
			errs = append(errs, field.Required(path.Child("averageUtilization"), "must set averageUtilization when type is Utilization"))
		} else if *t.AverageUtilization <= 0 {
			errs = append(errs, field.Invalid(path.Child("averageUtilization"), *t.AverageUtilization, "must be greater than 0"))
		}
	case autoscalingv2.ValueMetricType:
		if t.Value == nil {
			errs = append(errs, field.Required(path.Child("value"), "must set value when type is Value"))
		} else if t.Value.Sign() != 1 {
			errs = append(errs, field.Invalid(path.Child("value"), t.Value.String(), "must be positive"))
		}
	case autoscalingv2.AverageValueMetricType:
		if t.AverageValue == nil {
			errs = append(errs, field.Required(path.Child("averageValue"), "must set averageValue when type is AverageValue"))
		} else if t.AverageValue.Sign() != 1 {
			errs = append(errs, field.Invalid(path.Child("averageValue"), t.AverageValue.String(), "must be positive"))
		}
	default:
		errs = append(errs, field.NotSupported(path.Child("type"), t.Type, []autoscalingv2.MetricTargetType{
			autoscalingv2.AverageValueMetricType, autoscalingv2.UtilizationMetricType, autoscalingv2.ValueMetricType}))
	}
	return errs
}

func validateScalingRules(r *autoscalingv2.HPAScalingRules, path *field.Path) field.ErrorList {
	if r == nil {
		return nil
	}
	var errs field.ErrorList
	if w := r.StabilizationWindowSeconds; w != nil {
		if *w < 0 {
			errs = append(errs, field.Invalid(path.Child("stabilizationWindowSeconds"), *w, "must be greater than or equal to zero"))
		} else if *w > maxStabilizationWindowSeconds {
			errs = append(errs, field.Invalid(path.Child("stabilizationWindowSeconds"), *w, fmt.Sprintf("must be less than or equal to %v", maxStabilizationWindowSeconds)))
		}
	}
	if r.SelectPolicy != nil {
		errs = append(errs, validateEnum(*r.SelectPolicy, path.Child("selectPolicy"),
			autoscalingv2.MaxChangePolicySelect, autoscalingv2.MinChangePolicySelect, autoscalingv2.DisabledPolicySelect)...)
	}
	policiesPath := path.Child("policies")
	if len(r.Policies) == 0 {
		errs = append(errs, field.Required(policiesPath, "must specify at least one Policy"))
	}
	for i, p := range r.Policies {
		pPath := policiesPath.Index(i)
		errs = append(errs, validateEnum(p.Type, pPath.Child("type"), autoscalingv2.PodsScalingPolicy, autoscalingv2.PercentScalingPolicy)...)
		if p.Value <= 0 {
			errs = append(errs, field.Invalid(pPath.Child("value"), p.Value, "must be greater than zero"))
		}
		if p.PeriodSeconds <= 0 {
			errs = append(errs, field.Invalid(pPath.Child("periodSeconds"), p.PeriodSeconds, "must be greater than zero"))
		} else if p.PeriodSeconds > maxScalingPolicyPeriodSeconds {
			errs = append(errs, field.Invalid(pPath.Child("periodSeconds"), p.PeriodSeconds, fmt.Sprintf("must be less than or equal to %v", maxScalingPolicyPeriodSeconds)))
		}
	}
	return errs
}

func hpaTable() *Table {
	spec, status := autoscalingv2.HorizontalPodAutoscalerSpec{}.SwaggerDoc(), autoscalingv2.HorizontalPodAutoscalerStatus{}.SwaggerDoc()
	return &Table{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			tableColumn("Reference", "string", spec["scaleTargetRef"], 0),
			tableColumn("Targets", "string", spec["metrics"], 0),
			tableColumn("MinPods", "string", spec["minReplicas"], 0),
			tableColumn("MaxPods", "string", spec["maxReplicas"], 0),
			tableColumn("Replicas", "string", status["currentReplicas"], 0),
			ageColumn(),
		},
		Row: tableRow(func(h *autoscalingv2.HorizontalPodAutoscaler) []any {
			minPods := "<unset>"
			if h.Spec.MinReplicas != nil {
				minPods = fmt.Sprint(*h.Spec.MinReplicas)
			}
			ref := h.Spec.ScaleTargetRef.Kind + "/" + h.Spec.ScaleTargetRef.Name
			return []any{h.Name, ref, hpaTargets(h.Spec.Metrics, h.Status.CurrentMetrics), minPods,
				int64(h.Spec.MaxReplicas), int64(h.Status.CurrentReplicas), formatAge(h.CreationTimestamp)}
		}),
	}
}

// hpaTargets renders the TARGETS column: "current/target" per metric, the
// first two only, e.g. "cpu: 40%/80%".
func hpaTargets(specs []autoscalingv2.MetricSpec, statuses []autoscalingv2.MetricStatus) string {
	if len(specs) == 0 {
		return noneCell
	}
	const max = 2
	var list []string
	for i, spec := range specs {
		var status *autoscalingv2.MetricStatus
		if i < len(statuses) {
			status = &statuses[i]
		}
		list = append(list, hpaTarget(spec, status))
	}
	if len(list) > max {
		return fmt.Sprintf("%s + %d more...", strings.Join(list[:max], ", "), len(list)-max)
	}
	return strings.Join(list, ", ")
}

func hpaTarget(spec autoscalingv2.MetricSpec, status *autoscalingv2.MetricStatus) string {
	const unknown = "<unknown>"
	current := unknown
	switch spec.Type {
	case autoscalingv2.ExternalMetricSourceType, autoscalingv2.ObjectMetricSourceType:
		var target autoscalingv2.MetricTarget
		var cur *autoscalingv2.MetricValueStatus
		switch {
		case spec.Type == autoscalingv2.ObjectMetricSourceType && spec.Object != nil:
			target = spec.Object.Target
			if status != nil && status.Object != nil {
				cur = &status.Object.Current
			}
		case spec.Type == autoscalingv2.ExternalMetricSourceType && spec.External != nil:
			target = spec.External.Target
			if status != nil && status.External != nil {
				cur = &status.External.Current
			}
		default:
			return unknown
		}
		if target.AverageValue != nil {
			if cur != nil && cur.AverageValue != nil {
				current = cur.AverageValue.String()
			}
			return fmt.Sprintf("%s/%s (avg)", current, target.AverageValue.String())
		}
		if cur != nil && cur.Value != nil {
			current = cur.Value.String()
		}
		return fmt.Sprintf("%s/%s", current, quantityString(target.Value))
	case autoscalingv2.PodsMetricSourceType:
		if spec.Pods == nil {
			return unknown
		}
		if status != nil && status.Pods != nil && status.Pods.Current.AverageValue != nil {
			current = status.Pods.Current.AverageValue.String()
		}
		return fmt.Sprintf("%s/%s", current, quantityString(spec.Pods.Target.AverageValue))
	case autoscalingv2.ResourceMetricSourceType, autoscalingv2.ContainerResourceMetricSourceType:
		if spec.Resource == nil && spec.ContainerResource == nil {
			return unknown
		}
		name, target, cur := resourceMetricParts(spec, status)
		if target.AverageValue != nil {
			if cur != nil && cur.AverageValue != nil {
				current = cur.AverageValue.String()
			}
			return fmt.Sprintf("%s: %s/%s", name, current, target.AverageValue.String())
		}
		if cur != nil && cur.AverageUtilization != nil {
			current = fmt.Sprintf("%d%%", *cur.AverageUtilization)
		}
		want := "<auto>"
		if target.AverageUtilization != nil {
			want = fmt.Sprintf("%d%%", *target.AverageUtilization)
		}
		return fmt.Sprintf("%s: %s/%s", name, current, want)
	}
	return "<unknown type>"
}

// resourceMetricParts returns the resource name, target and current value
// of a Resource or ContainerResource metric.
func resourceMetricParts(spec autoscalingv2.MetricSpec, status *autoscalingv2.MetricStatus) (corev1.ResourceName, autoscalingv2.MetricTarget, *autoscalingv2.MetricValueStatus) {
	if spec.Resource != nil {
		if status != nil && status.Resource != nil {
			return spec.Resource.Name, spec.Resource.Target, &status.Resource.Current
		}
		return spec.Resource.Name, spec.Resource.Target, nil
	}
	if status != nil && status.ContainerResource != nil {
		return spec.ContainerResource.Name, spec.ContainerResource.Target, &status.ContainerResource.Current
	}
	return spec.ContainerResource.Name, spec.ContainerResource.Target, nil
}

func quantityString(q *resource.Quantity) string {
	if q == nil {
		return "<unset>"
	}
	return q.String()
}
