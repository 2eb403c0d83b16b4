package registry

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

func statefulSetsResource() *Resource {
	return &Resource{
		Group: "apps", Version: "v1", Name: "statefulsets", Kind: "StatefulSet", Singular: "statefulset",
		ShortNames: []string{"sts"},
		Categories: []string{"all"},
		Namespaced: true,
		New:        func() runtime.Object { return &appsv1.StatefulSet{} },
		NewList:    func() runtime.Object { return &appsv1.StatefulSetList{} },
		Status:     true,
		Scale: replicaScale(func(s *appsv1.StatefulSet) (*int32, int32, *metav1.LabelSelector) {
			return s.Spec.Replicas, s.Status.Replicas, s.Spec.Selector
		}, func(s *appsv1.StatefulSet, n int32) { s.Spec.Replicas = &n }),
		// Pod names are <statefulset>-<ordinal> and double as hostnames.
		ValidateName:         apivalidation.NameIsDNSLabel,
		Default:              typedMutate(defaultStatefulSet),
		PrepareForCreate:     typedMutate(func(s *appsv1.StatefulSet) { s.Status = appsv1.StatefulSetStatus{} }),
		Validate:             typedValidate(validateStatefulSet),
		ValidateUpdate:       typedValidateUpdate(validateStatefulSetUpdate),
		ValidateStatusUpdate: typedValidateUpdate(validateStatefulSetStatusUpdate),
		Table:                statefulSetsTable(),
	}
}

func defaultStatefulSet(s *appsv1.StatefulSet) {
	spec := &s.Spec
	if spec.PodManagementPolicy == "" {
		spec.PodManagementPolicy = appsv1.OrderedReadyPodManagement
	}
	if spec.UpdateStrategy.Type == "" {
		spec.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
	}
	if spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType {
		if spec.UpdateStrategy.RollingUpdate == nil {
			spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
		}
		if spec.UpdateStrategy.RollingUpdate.Partition == nil {
			spec.UpdateStrategy.RollingUpdate.Partition = ptr.To[int32](0)
		}
	}
	if spec.Replicas == nil {
		spec.Replicas = ptr.To[int32](1)
	}
	if spec.RevisionHistoryLimit == nil {
		spec.RevisionHistoryLimit = ptr.To[int32](10)
	}
	if spec.PersistentVolumeClaimRetentionPolicy == nil {
		spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{}
	}
	if spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted == "" {
		spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if spec.PersistentVolumeClaimRetentionPolicy.WhenScaled == "" {
		spec.PersistentVolumeClaimRetentionPolicy.WhenScaled = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	for i := range spec.VolumeClaimTemplates {
		defaultClaimTemplate(&spec.VolumeClaimTemplates[i])
	}
	DefaultPodSpec(&spec.Template.Spec)
}

// defaultClaimTemplate gives a volume claim template the defaults
// Kubernetes shows for it: type meta, Filesystem volume mode and the
// Pending phase of a claim that does not exist yet.
func defaultClaimTemplate(pvc *corev1.PersistentVolumeClaim) {
	pvc.APIVersion, pvc.Kind = "v1", "PersistentVolumeClaim"
	if pvc.Spec.VolumeMode == nil {
		pvc.Spec.VolumeMode = ptr.To(corev1.PersistentVolumeFilesystem)
	}
	if pvc.Status.Phase == "" {
		pvc.Status.Phase = corev1.ClaimPending
	}
}

func validateStatefulSet(s *appsv1.StatefulSet) field.ErrorList {
	spec := &s.Spec
	path := field.NewPath("spec")
	var errs field.ErrorList
	switch spec.PodManagementPolicy {
	case "":
		errs = append(errs, field.Required(path.Child("podManagementPolicy"), ""))
	case appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement:
	default:
		errs = append(errs, field.Invalid(path.Child("podManagementPolicy"), spec.PodManagementPolicy, "must be 'OrderedReady' or 'Parallel'"))
	}
	errs = append(errs, validateStatefulSetUpdateStrategy(&spec.UpdateStrategy, path.Child("updateStrategy"))...)
	if p := spec.PersistentVolumeClaimRetentionPolicy; p != nil {
		pPath := path.Child("persistentVolumeClaimRetentionPolicy")
		retain, del := appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType
		errs = append(errs, validateEnum(p.WhenDeleted, pPath.Child("whenDeleted"), retain, del)...)
		errs = append(errs, validateEnum(p.WhenScaled, pPath.Child("whenScaled"), retain, del)...)
	}
	if spec.Replicas != nil {
		errs = append(errs, validateNonnegative(int64(*spec.Replicas), path.Child("replicas"))...)
	}
	errs = append(errs, validateNonnegative(int64(spec.MinReadySeconds), path.Child("minReadySeconds"))...)
	if spec.Ordinals != nil {
		errs = append(errs, validateNonnegative(int64(spec.Ordinals.Start), path.Child("ordinals", "start"))...)
	}
	if spec.RevisionHistoryLimit != nil {
		errs = append(errs, validateNonnegative(int64(*spec.RevisionHistoryLimit), path.Child("revisionHistoryLimit"))...)
	}
	errs = append(errs, validateControllerSelector(spec.Selector, "statefulset", path.Child("selector"))...)
	errs = append(errs, validateSelectorMatchesTemplate(spec.Selector, spec.Template.Labels, path.Child("template"))...)
	// Like Kubernetes, the template's pod spec is not validated as a whole
	// here: its volume mounts may name volumeClaimTemplates, which only
	// become volumes on the pods.
	errs = append(errs, validateMetaLabelsAnnotations(&spec.Template.ObjectMeta, path.Child("template"))...)
	errs = append(errs, validateLongRunningTemplate(&spec.Template.Spec, "StatefulSet", path.Child("template"))...)
	return errs
}

func validateStatefulSetUpdateStrategy(st *appsv1.StatefulSetUpdateStrategy, path *field.Path) field.ErrorList {
	switch st.Type {
	case "":
		return field.ErrorList{field.Required(path, "")}
	case appsv1.OnDeleteStatefulSetStrategyType:
		if st.RollingUpdate != nil {
			return field.ErrorList{field.Invalid(path.Child("rollingUpdate"), st.RollingUpdate, "only allowed for updateStrategy 'RollingUpdate'")}
		}
		return nil
	case appsv1.RollingUpdateStatefulSetStrategyType:
		ru := st.RollingUpdate
		if ru == nil {
			return nil
		}
		ruPath := path.Child("rollingUpdate")
		var errs field.ErrorList
		if ru.Partition != nil {
			errs = append(errs, validateNonnegative(int64(*ru.Partition), ruPath.Child("partition"))...)
		}
		if ru.MaxUnavailable != nil {
			errs = append(errs, validateIntOrPercent(*ru.MaxUnavailable, ruPath.Child("maxUnavailable"), true)...)
			if intOrPercentIsZero(ru.MaxUnavailable) {
				errs = append(errs, field.Invalid(ruPath.Child("maxUnavailable"), *ru.MaxUnavailable, "cannot be 0"))
			}
		}
		return errs
	default:
		return field.ErrorList{field.Invalid(path, st, "must be 'RollingUpdate' or 'OnDelete'")}
	}
}

// validateStatefulSetUpdate allows changing only the fields a running
// stateful set can follow; everything else (selector, serviceName,
// volumeClaimTemplates, podManagementPolicy) is fixed at creation.
func validateStatefulSetUpdate(s, old *appsv1.StatefulSet) field.ErrorList {
	errs := validateStatefulSet(s)
	probe := s.Spec.DeepCopy()
	probe.Replicas = old.Spec.Replicas
	probe.Template = old.Spec.Template
	probe.UpdateStrategy = old.Spec.UpdateStrategy
	probe.MinReadySeconds = old.Spec.MinReadySeconds
	probe.Ordinals = old.Spec.Ordinals
	probe.RevisionHistoryLimit = old.Spec.RevisionHistoryLimit
	probe.PersistentVolumeClaimRetentionPolicy = old.Spec.PersistentVolumeClaimRetentionPolicy
	if !equality.Semantic.DeepEqual(*probe, old.Spec) {
		errs = append(errs, field.Forbidden(field.NewPath("spec"), "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"))
	}
	return errs
}

func validateStatefulSetStatusUpdate(s, old *appsv1.StatefulSet) field.ErrorList {
	st := &s.Status
	path := field.NewPath("status")
	errs := validateNonnegatives(path, map[string]int64{
		"replicas": int64(st.Replicas), "readyReplicas": int64(st.ReadyReplicas),
		"currentReplicas": int64(st.CurrentReplicas), "updatedReplicas": int64(st.UpdatedReplicas),
		"availableReplicas": int64(st.AvailableReplicas), "observedGeneration": st.ObservedGeneration,
	})
	if st.CollisionCount != nil {
		errs = append(errs, validateNonnegative(int64(*st.CollisionCount), path.Child("collisionCount"))...)
	}
	errs = append(errs, notGreaterThan(st.ReadyReplicas, st.Replicas, path.Child("readyReplicas"), "status.replicas")...)
	errs = append(errs, notGreaterThan(st.CurrentReplicas, st.Replicas, path.Child("currentReplicas"), "status.replicas")...)
	errs = append(errs, notGreaterThan(st.UpdatedReplicas, st.Replicas, path.Child("updatedReplicas"), "status.replicas")...)
	errs = append(errs, notGreaterThan(st.AvailableReplicas, st.Replicas, path.Child("availableReplicas"), "status.replicas")...)
	errs = append(errs, notGreaterThan(st.AvailableReplicas, st.ReadyReplicas, path.Child("availableReplicas"), "status.readyReplicas")...)
	errs = append(errs, validateCollisionCountNotDecremented(st.CollisionCount, old.Status.CollisionCount, path)...)
	return errs
}

func statefulSetsTable() *Table {
	cols := []metav1.TableColumnDefinition{
		nameColumn(),
		tableColumn("Ready", "string", "Number of the pod with ready state", 0),
		ageColumn(),
	}
	cols = append(cols, workloadColumns("")...)
	return &Table{Columns: cols, Row: tableRow(func(s *appsv1.StatefulSet) []any {
		names, images := containerCells(s.Spec.Template.Spec.Containers)
		return []any{s.Name, readyOfDesired(s.Status.ReadyReplicas, s.Spec.Replicas), formatAge(s.CreationTimestamp), names, images}
	})}
}
