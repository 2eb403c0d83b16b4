package registry

import (
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

func deploymentsResource() *Resource {
	return &Resource{
		Group: "apps", Version: "v1", Name: "deployments", Kind: "Deployment", Singular: "deployment",
		ShortNames: []string{"deploy"},
		Categories: []string{"all"},
		Namespaced: true,
		New:        func() runtime.Object { return &appsv1.Deployment{} },
		NewList:    func() runtime.Object { return &appsv1.DeploymentList{} },
		Status:     true,
		Scale: replicaScale(func(d *appsv1.Deployment) (*int32, int32, *metav1.LabelSelector) {
			return d.Spec.Replicas, d.Status.Replicas, d.Spec.Selector
		}, func(d *appsv1.Deployment, n int32) { d.Spec.Replicas = &n }),
		Default:          typedMutate(defaultDeployment),
		PrepareForCreate: typedMutate(func(d *appsv1.Deployment) { d.Status = appsv1.DeploymentStatus{} }),
		Validate:         typedValidate(validateDeployment),
		ValidateUpdate: typedValidateUpdate(func(d, old *appsv1.Deployment) field.ErrorList {
			return append(validateDeployment(d), validateImmutableSelector(d.Spec.Selector, old.Spec.Selector)...)
		}),
		ValidateStatusUpdate: typedValidateUpdate(validateDeploymentStatusUpdate),
		Table:                deploymentsTable(),
	}
}

func defaultDeployment(d *appsv1.Deployment) {
	if d.Spec.Replicas == nil {
		d.Spec.Replicas = ptr.To[int32](1)
	}
	st := &d.Spec.Strategy
	if st.Type == "" {
		st.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if st.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if st.RollingUpdate == nil {
			st.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		if st.RollingUpdate.MaxUnavailable == nil {
			st.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromString("25%"))
		}
		if st.RollingUpdate.MaxSurge == nil {
			st.RollingUpdate.MaxSurge = ptr.To(intstr.FromString("25%"))
		}
	}
	if d.Spec.RevisionHistoryLimit == nil {
		d.Spec.RevisionHistoryLimit = ptr.To[int32](10)
	}
	if d.Spec.ProgressDeadlineSeconds == nil {
		d.Spec.ProgressDeadlineSeconds = ptr.To[int32](600)
	}
	DefaultPodSpec(&d.Spec.Template.Spec)
}

func validateDeployment(d *appsv1.Deployment) field.ErrorList {
	spec := &d.Spec
	path := field.NewPath("spec")
	var errs field.ErrorList
	if spec.Replicas != nil {
		errs = append(errs, validateNonnegative(int64(*spec.Replicas), path.Child("replicas"))...)
	}
	errs = append(errs, validateControllerSelector(spec.Selector, "deployment", path.Child("selector"))...)
	errs = append(errs, validateSelectorMatchesTemplate(spec.Selector, spec.Template.Labels, path.Child("template"))...)
	errs = append(errs, ValidatePodTemplateSpec(&spec.Template, path.Child("template"))...)
	errs = append(errs, validateLongRunningTemplate(&spec.Template.Spec, "ReplicaSet", path.Child("template"))...)
	errs = append(errs, validateDeploymentStrategy(&spec.Strategy, path.Child("strategy"))...)
	errs = append(errs, validateNonnegative(int64(spec.MinReadySeconds), path.Child("minReadySeconds"))...)
	if spec.RevisionHistoryLimit != nil {
		errs = append(errs, validateNonnegative(int64(*spec.RevisionHistoryLimit), path.Child("revisionHistoryLimit"))...)
	}
	if p := spec.ProgressDeadlineSeconds; p != nil {
		errs = append(errs, validateNonnegative(int64(*p), path.Child("progressDeadlineSeconds"))...)
		if *p <= spec.MinReadySeconds {
			errs = append(errs, field.Invalid(path.Child("progressDeadlineSeconds"), *p, "must be greater than minReadySeconds"))
		}
	}
	return errs
}

func validateDeploymentStrategy(st *appsv1.DeploymentStrategy, path *field.Path) field.ErrorList {
	switch st.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if st.RollingUpdate != nil {
			return field.ErrorList{field.Forbidden(path.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")}
		}
		return nil
	case appsv1.RollingUpdateDeploymentStrategyType:
		ru := st.RollingUpdate
		if ru == nil {
			return field.ErrorList{field.Required(path.Child("rollingUpdate"), "this should be defaulted and never be nil")}
		}
		ruPath := path.Child("rollingUpdate")
		var errs field.ErrorList
		if ru.MaxUnavailable != nil {
			errs = append(errs, validateIntOrPercent(*ru.MaxUnavailable, ruPath.Child("maxUnavailable"), true)...)
		}
		if ru.MaxSurge != nil {
			errs = append(errs, validateIntOrPercent(*ru.MaxSurge, ruPath.Child("maxSurge"), false)...)
		}
		if intOrPercentIsZero(ru.MaxUnavailable) && intOrPercentIsZero(ru.MaxSurge) {
			errs = append(errs, field.Invalid(ruPath.Child("maxUnavailable"), ru.MaxUnavailable, "may not be 0 when `maxSurge` is 0"))
		}
		return errs
	default:
		return field.ErrorList{field.NotSupported(path.Child("type"), st.Type,
			[]string{string(appsv1.RecreateDeploymentStrategyType), string(appsv1.RollingUpdateDeploymentStrategyType)})}
	}
}

func validateDeploymentStatusUpdate(d, old *appsv1.Deployment) field.ErrorList {
	s := &d.Status
	path := field.NewPath("status")
	errs := validateNonnegatives(path, map[string]int64{
		"observedGeneration": s.ObservedGeneration, "replicas": int64(s.Replicas),
		"updatedReplicas": int64(s.UpdatedReplicas), "readyReplicas": int64(s.ReadyReplicas),
		"availableReplicas": int64(s.AvailableReplicas), "unavailableReplicas": int64(s.UnavailableReplicas),
	})
	if s.CollisionCount != nil {
		errs = append(errs, validateNonnegative(int64(*s.CollisionCount), path.Child("collisionCount"))...)
	}
	errs = append(errs, notGreaterThan(s.UpdatedReplicas, s.Replicas, path.Child("updatedReplicas"), "status.replicas")...)
	errs = append(errs, notGreaterThan(s.ReadyReplicas, s.Replicas, path.Child("readyReplicas"), "status.replicas")...)
	errs = append(errs, notGreaterThan(s.AvailableReplicas, s.Replicas, path.Child("availableReplicas"), "status.replicas")...)
	errs = append(errs, notGreaterThan(s.AvailableReplicas, s.ReadyReplicas, path.Child("availableReplicas"), "readyReplicas")...)
	errs = append(errs, validateCollisionCountNotDecremented(s.CollisionCount, old.Status.CollisionCount, path)...)
	return errs
}

// validateCollisionCountNotDecremented rejects lowering status.collisionCount.
func validateCollisionCountNotDecremented(count, old *int32, statusPath *field.Path) field.ErrorList {
	if old == nil || (count != nil && *count >= *old) {
		return nil
	}
	return field.ErrorList{field.Invalid(statusPath.Child("collisionCount"), ptr.Deref(count, 0), "cannot be decremented")}
}

func deploymentsTable() *Table {
	cols := []metav1.TableColumnDefinition{
		nameColumn(),
		tableColumn("Ready", "string", "Number of the pod with ready state", 0),
		tableColumn("Up-to-date", "string", appsv1.DeploymentStatus{}.SwaggerDoc()["updatedReplicas"], 0),
		tableColumn("Available", "string", appsv1.DeploymentStatus{}.SwaggerDoc()["availableReplicas"], 0),
		ageColumn(),
	}
	cols = append(cols, workloadColumns(appsv1.DeploymentSpec{}.SwaggerDoc()["selector"])...)
	return &Table{Columns: cols, Row: tableRow(func(d *appsv1.Deployment) []any {
		selector := "<invalid>"
		if sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector); err == nil {
			selector = sel.String()
		}
		names, images := containerCells(d.Spec.Template.Spec.Containers)
		return []any{d.Name, readyOfDesired(d.Status.ReadyReplicas, d.Spec.Replicas),
			int64(d.Status.UpdatedReplicas), int64(d.Status.AvailableReplicas), formatAge(d.CreationTimestamp),
			names, images, selector}
	})}
}
