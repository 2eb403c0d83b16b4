package registry

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

func replicaSetsResource() *Resource {
	return &Resource{
		Group: "apps", Version: "v1", Name: "replicasets", Kind: "ReplicaSet", Singular: "replicaset",
		ShortNames: []string{"rs"},
		Categories: []string{"all"},
		Namespaced: true,
		New:        func() runtime.Object { return &appsv1.ReplicaSet{} },
		NewList:    func() runtime.Object { return &appsv1.ReplicaSetList{} },
		Status:     true,
		Scale: replicaScale(func(rs *appsv1.ReplicaSet) (*int32, int32, *metav1.LabelSelector) {
			return rs.Spec.Replicas, rs.Status.Replicas, rs.Spec.Selector
		}, func(rs *appsv1.ReplicaSet, n int32) { rs.Spec.Replicas = &n }),
		Default:          typedMutate(defaultReplicaSet),
		PrepareForCreate: typedMutate(func(rs *appsv1.ReplicaSet) { rs.Status = appsv1.ReplicaSetStatus{} }),
		Validate:         typedValidate(validateReplicaSet),
		ValidateUpdate: typedValidateUpdate(func(rs, old *appsv1.ReplicaSet) field.ErrorList {
			return append(validateReplicaSet(rs), validateImmutableSelector(rs.Spec.Selector, old.Spec.Selector)...)
		}),
		ValidateStatusUpdate: typedValidateUpdate(func(rs, _ *appsv1.ReplicaSet) field.ErrorList {
			return validateReplicaSetStatus(&rs.Status)
		}),
		// Kubernetes lets clients select replica sets by status.replicas.
		Fields: typedFields(func(rs *appsv1.ReplicaSet) fields.Set {
			return fields.Set{"status.replicas": strconv.Itoa(int(rs.Status.Replicas))}
		}),
		Table: replicaSetsTable(),
	}
}

func defaultReplicaSet(rs *appsv1.ReplicaSet) {
	if rs.Spec.Replicas == nil {
		rs.Spec.Replicas = ptr.To[int32](1)
	}
	DefaultPodSpec(&rs.Spec.Template.Spec)
}

func validateReplicaSet(rs *appsv1.ReplicaSet) field.ErrorList {
	spec := &rs.Spec
	path := field.NewPath("spec")
	var errs field.ErrorList
	if spec.Replicas != nil {
		errs = append(errs, validateNonnegative(int64(*spec.Replicas), path.Child("replicas"))...)
	}
	errs = append(errs, validateNonnegative(int64(spec.MinReadySeconds), path.Child("minReadySeconds"))...)
	// Kubernetes reports an empty ReplicaSet selector with the deployment wording.
	errs = append(errs, validateControllerSelector(spec.Selector, "deployment", path.Child("selector"))...)
	errs = append(errs, validateSelectorMatchesTemplate(spec.Selector, spec.Template.Labels, path.Child("template"))...)
	errs = append(errs, ValidatePodTemplateSpec(&spec.Template, path.Child("template"))...)
	errs = append(errs, validateLongRunningTemplate(&spec.Template.Spec, "ReplicaSet", path.Child("template"))...)
	return errs
}

func validateReplicaSetStatus(s *appsv1.ReplicaSetStatus) field.ErrorList {
	path := field.NewPath("status")
	errs := validateNonnegatives(path, map[string]int64{
		"replicas": int64(s.Replicas), "fullyLabeledReplicas": int64(s.FullyLabeledReplicas),
		"readyReplicas": int64(s.ReadyReplicas), "availableReplicas": int64(s.AvailableReplicas),
		"observedGeneration": s.ObservedGeneration,
	})
	errs = append(errs, notGreaterThan(s.FullyLabeledReplicas, s.Replicas, path.Child("fullyLabeledReplicas"), "status.replicas")...)
	errs = append(errs, notGreaterThan(s.ReadyReplicas, s.Replicas, path.Child("readyReplicas"), "status.replicas")...)
	errs = append(errs, notGreaterThan(s.AvailableReplicas, s.Replicas, path.Child("availableReplicas"), "status.replicas")...)
	errs = append(errs, notGreaterThan(s.AvailableReplicas, s.ReadyReplicas, path.Child("availableReplicas"), "readyReplicas")...)
	return errs
}

func replicaSetsTable() *Table {
	cols := []metav1.TableColumnDefinition{
		nameColumn(),
		tableColumn("Desired", "integer", appsv1.ReplicaSetSpec{}.SwaggerDoc()["replicas"], 0),
		tableColumn("Current", "integer", appsv1.ReplicaSetStatus{}.SwaggerDoc()["replicas"], 0),
		tableColumn("Ready", "integer", appsv1.ReplicaSetStatus{}.SwaggerDoc()["readyReplicas"], 0),
		ageColumn(),
	}
	cols = append(cols, workloadColumns(appsv1.ReplicaSetSpec{}.SwaggerDoc()["selector"])...)
	return &Table{Columns: cols, Row: tableRow(func(rs *appsv1.ReplicaSet) []any {
		names, images := containerCells(rs.Spec.Template.Spec.Containers)
		return []any{rs.Name, int64(ptr.Deref(rs.Spec.Replicas, 0)), int64(rs.Status.Replicas),
			int64(rs.Status.ReadyReplicas), formatAge(rs.CreationTimestamp),
			names, images, metav1.FormatLabelSelector(rs.Spec.Selector)}
	})}
}
