package registry

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

func daemonSetsResource() *Resource {
	return &Resource{
		Group: "apps", Version: "v1", Name: "daemonsets", Kind: "DaemonSet", Singular: "daemonset",
		ShortNames:       []string{"ds"},
		Categories:       []string{"all"},
		Namespaced:       true,
		New:              func() runtime.Object { return &appsv1.DaemonSet{} },
		NewList:          func() runtime.Object { return &appsv1.DaemonSetList{} },
		Status:           true,
		Default:          typedMutate(defaultDaemonSet),
		PrepareForCreate: typedMutate(func(ds *appsv1.DaemonSet) { ds.Status = appsv1.DaemonSetStatus{} }),
		Validate:         typedValidate(validateDaemonSet),
		ValidateUpdate: typedValidateUpdate(func(ds, old *appsv1.DaemonSet) field.ErrorList {
			return append(validateDaemonSet(ds), validateImmutableSelector(ds.Spec.Selector, old.Spec.Selector)...)
		}),
		ValidateStatusUpdate: typedValidateUpdate(validateDaemonSetStatusUpdate),
		Table:                daemonSetsTable(),
	}
}

func defaultDaemonSet(ds *appsv1.DaemonSet) {
	st := &ds.Spec.UpdateStrategy
	if st.Type == "" {
		st.Type = appsv1.RollingUpdateDaemonSetStrategyType
	}
	if st.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if st.RollingUpdate == nil {
			st.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		}
		if st.RollingUpdate.MaxUnavailable == nil {
			st.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromInt32(1))
		}
		if st.RollingUpdate.MaxSurge == nil {
			st.RollingUpdate.MaxSurge = ptr.To(intstr.FromInt32(0))
		}
	}
	if ds.Spec.RevisionHistoryLimit == nil {
		ds.Spec.RevisionHistoryLimit = ptr.To[int32](10)
	}
	DefaultPodSpec(&ds.Spec.Template.Spec)
}

func validateDaemonSet(ds *appsv1.DaemonSet) field.ErrorList {
	spec := &ds.Spec
	path := field.NewPath("spec")
	errs := validateControllerSelector(spec.Selector, "daemonset", path.Child("selector"))
	errs = append(errs, validateSelectorMatchesTemplate(spec.Selector, spec.Template.Labels, path.Child("template"))...)
	errs = append(errs, ValidatePodTemplateSpec(&spec.Template, path.Child("template"))...)
	errs = append(errs, validateLongRunningTemplate(&spec.Template.Spec, "DaemonSet", path.Child("template"))...)
	errs = append(errs, validateNonnegative(int64(spec.MinReadySeconds), path.Child("minReadySeconds"))...)
	errs = append(errs, validateDaemonSetUpdateStrategy(&spec.UpdateStrategy, path.Child("updateStrategy"))...)
	if spec.RevisionHistoryLimit != nil {
		errs = append(errs, validateNonnegative(int64(*spec.RevisionHistoryLimit), path.Child("revisionHistoryLimit"))...)
	}
	return errs
}

func validateDaemonSetUpdateStrategy(st *appsv1.DaemonSetUpdateStrategy, path *field.Path) field.ErrorList {
	switch st.Type {
	case appsv1.OnDeleteDaemonSetStrategyType:
		return nil
	case appsv1.RollingUpdateDaemonSetStrategyType:
		ru := st.RollingUpdate
		ruPath := path.Child("rollingUpdate")
		if ru == nil {
			return field.ErrorList{field.Required(ruPath, "")}
		}
		var errs field.ErrorList
		if ru.MaxUnavailable != nil {
			errs = append(errs, validateIntOrPercent(*ru.MaxUnavailable, ruPath.Child("maxUnavailable"), true)...)
		}
		if ru.MaxSurge != nil {
			errs = append(errs, validateIntOrPercent(*ru.MaxSurge, ruPath.Child("maxSurge"), true)...)
		}
		hasUnavailable, hasSurge := !intOrPercentIsZero(ru.MaxUnavailable), !intOrPercentIsZero(ru.MaxSurge)
		switch {
		case hasUnavailable && hasSurge:
			errs = append(errs, field.Invalid(ruPath.Child("maxSurge"), ru.MaxSurge, "may not be set when maxUnavailable is non-zero"))
		case !hasUnavailable && !hasSurge:
			errs = append(errs, field.Required(ruPath.Child("maxUnavailable"), "cannot be 0 when maxSurge is 0"))
		}
		return errs
	default:
		return field.ErrorList{field.NotSupported(path, st,
			[]string{string(appsv1.RollingUpdateDaemonSetStrategyType), string(appsv1.OnDeleteDaemonSetStrategyType)})}
	}
}

func validateDaemonSetStatusUpdate(ds, old *appsv1.DaemonSet) field.ErrorList {
	s := &ds.Status
	path := field.NewPath("status")
	errs := validateNonnegatives(path, map[string]int64{
		"currentNumberScheduled": int64(s.CurrentNumberScheduled), "numberMisscheduled": int64(s.NumberMisscheduled),
		"desiredNumberScheduled": int64(s.DesiredNumberScheduled), "numberReady": int64(s.NumberReady),
		"observedGeneration": s.ObservedGeneration, "updatedNumberScheduled": int64(s.UpdatedNumberScheduled),
		"numberAvailable": int64(s.NumberAvailable), "numberUnavailable": int64(s.NumberUnavailable),
	})
	if s.CollisionCount != nil {
		errs = append(errs, validateNonnegative(int64(*s.CollisionCount), path.Child("collisionCount"))...)
	}
	errs = append(errs, validateCollisionCountNotDecremented(s.CollisionCount, old.Status.CollisionCount, path)...)
	return errs
}

func daemonSetsTable() *Table {
	cols := []metav1.TableColumnDefinition{
		nameColumn(),
		tableColumn("Desired", "integer", appsv1.DaemonSetStatus{}.SwaggerDoc()["desiredNumberScheduled"], 0),
		tableColumn("Current", "integer", appsv1.DaemonSetStatus{}.SwaggerDoc()["currentNumberScheduled"], 0),
		tableColumn("Ready", "integer", appsv1.DaemonSetStatus{}.SwaggerDoc()["numberReady"], 0),
		tableColumn("Up-to-date", "integer", appsv1.DaemonSetStatus{}.SwaggerDoc()["updatedNumberScheduled"], 0),
		tableColumn("Available", "integer", appsv1.DaemonSetStatus{}.SwaggerDoc()["numberAvailable"], 0),
		tableColumn("Node Selector", "string", corev1.PodSpec{}.SwaggerDoc()["nodeSelector"], 0),
		ageColumn(),
	}
	cols = append(cols, workloadColumns(appsv1.DaemonSetSpec{}.SwaggerDoc()["selector"])...)
	return &Table{Columns: cols, Row: tableRow(func(ds *appsv1.DaemonSet) []any {
		s := &ds.Status
		names, images := containerCells(ds.Spec.Template.Spec.Containers)
		return []any{ds.Name, int64(s.DesiredNumberScheduled), int64(s.CurrentNumberScheduled), int64(s.NumberReady),
			int64(s.UpdatedNumberScheduled), int64(s.NumberAvailable), labels.FormatLabels(ds.Spec.Template.Spec.NodeSelector),
			formatAge(ds.CreationTimestamp), names, images, metav1.FormatLabelSelector(ds.Spec.Selector)}
	})}
}
