package registry

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func persistentVolumeClaimsResource() *Resource {
	return &Resource{
		Version: "v1", Name: "persistentvolumeclaims", Singular: "persistentvolumeclaim", Kind: "PersistentVolumeClaim",
		ShortNames: []string{"pvc"}, Namespaced: true,
		New:          func() runtime.Object { return &corev1.PersistentVolumeClaim{} },
		NewList:      func() runtime.Object { return &corev1.PersistentVolumeClaimList{} },
		Status:       true,
		NoGeneration: true,

		Default: typedMutate(func(pvc *corev1.PersistentVolumeClaim) {
			if pvc.Status.Phase == "" {
				pvc.Status.Phase = corev1.ClaimPending
			}
			defaultPVCSpec(&pvc.Spec)
		}),
		PrepareForCreate: typedMutate(func(pvc *corev1.PersistentVolumeClaim) {
			pvc.Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}
			pvc.Finalizers = withFinalizer(pvc.Finalizers, pvcProtectionFinalizer)
		}),
		Validate: typedValidate(func(pvc *corev1.PersistentVolumeClaim) field.ErrorList {
			return validatePVCSpec(&pvc.Spec, field.NewPath("spec"))
		}),
		ValidateUpdate:       typedValidateUpdate(validatePVCUpdate),
		ValidateStatusUpdate: typedValidateUpdate(validatePVCStatusUpdate),
		Table:                persistentVolumeClaimTable(),
	}
}

// pvcProtectionFinalizer keeps a deleted claim while pods use it; the
// pvc-protection controller (pkg/controller/pvcprotection) removes it.
const pvcProtectionFinalizer = "kubernetes.io/pvc-protection"

// withFinalizer returns finalizers with f added unless it is there.
func withFinalizer(finalizers []string, f string) []string {
	if slices.Contains(finalizers, f) {
		return finalizers
	}
	return append(finalizers, f)
}

// validatePVCSpec checks a claim spec; ephemeral volume templates share it.
func validatePVCSpec(spec *corev1.PersistentVolumeClaimSpec, p *field.Path) field.ErrorList {
	errs := validateAccessModes(spec.AccessModes, p.Child("accessModes"))
	if spec.Selector != nil {
		errs = append(errs, metavalidation.ValidateLabelSelector(spec.Selector, metavalidation.LabelSelectorValidationOptions{}, p.Child("selector"))...)
	}
	storagePath := p.Child("resources").Key(string(corev1.ResourceStorage))
	if q, ok := spec.Resources.Requests[corev1.ResourceStorage]; !ok {
		errs = append(errs, field.Required(storagePath, ""))
	} else if q.Sign() <= 0 {
		errs = append(errs, field.Invalid(storagePath, q.String(), "must be greater than zero"))
	}
	errs = append(errs, validateResourceList(spec.Resources.Requests, p.Child("resources", "requests"))...)
	errs = append(errs, validateResourceList(spec.Resources.Limits, p.Child("resources", "limits"))...)
	if spec.StorageClassName != nil {
		errs = append(errs, validateOptionalSubdomain(*spec.StorageClassName, p.Child("storageClassName"))...)
	}
	if spec.VolumeMode != nil {
		errs = append(errs, validateEnum(*spec.VolumeMode, p.Child("volumeMode"), corev1.PersistentVolumeBlock, corev1.PersistentVolumeFilesystem)...)
	}
	if ds := spec.DataSource; ds != nil && ds.Name == "" {
		errs = append(errs, field.Required(p.Child("dataSource", "name"), ""))
	}
	return errs
}

// validatePVCUpdate allows binding (volumeName from ""), growing the
// storage request of a bound claim, and changing the attributes class.
func validatePVCUpdate(pvc, old *corev1.PersistentVolumeClaim) field.ErrorList {
	specPath := field.NewPath("spec")
	errs := validatePVCSpec(&pvc.Spec, specPath)

	allowed := old.Spec.DeepCopy()
	if old.Spec.VolumeName == "" {
		allowed.VolumeName = pvc.Spec.VolumeName
	}
	allowed.VolumeAttributesClassName = pvc.Spec.VolumeAttributesClassName
	if old.Spec.StorageClassName == nil && old.Spec.VolumeName == "" {
		// Retroactive default class assignment to a claim not bound yet.
		allowed.StorageClassName = pvc.Spec.StorageClassName
	}
	if old.Status.Phase == corev1.ClaimBound {
		allowed.Resources.Requests = pvc.Spec.Resources.Requests
		newSize := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
		oldSize := old.Spec.Resources.Requests[corev1.ResourceStorage]
		if newSize.Cmp(oldSize) < 0 {
			errs = append(errs, field.Forbidden(specPath.Child("resources", "requests", "storage"), "field can not be less than previous value"))
		}
	}
	if !apiequality.Semantic.DeepEqual(*allowed, pvc.Spec) {
		errs = append(errs, field.Forbidden(specPath, "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"))
	}
	return errs
}

func validatePVCStatusUpdate(pvc, _ *corev1.PersistentVolumeClaim) field.ErrorList {
	status := field.NewPath("status")
	var errs field.ErrorList
	if pvc.Status.Phase != "" {
		errs = append(errs, validateEnum(pvc.Status.Phase, status.Child("phase"), corev1.ClaimBound, corev1.ClaimLost, corev1.ClaimPending)...)
	}
	errs = append(errs, validateResourceList(pvc.Status.Capacity, status.Child("capacity"))...)
	return errs
}

func persistentVolumeClaimTable() *Table {
	return &Table{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			tableColumn("Status", "string", "phase represents the current phase of PersistentVolumeClaim.", 0),
			tableColumn("Volume", "string", "volumeName is the binding reference to the PersistentVolume backing this claim.", 0),
			tableColumn("Capacity", "string", "capacity represents the actual resources of the underlying volume.", 0),
			tableColumn("Access Modes", "string", "accessModes contains the desired access modes the volume should have.", 0),
			tableColumn("StorageClass", "string", "storageClassName is the name of the StorageClass required by the claim.", 0),
			tableColumn("VolumeAttributesClass", "string", "volumeAttributesClassName may be used to set the VolumeAttributesClass used by this claim.", 0),
			ageColumn(),
			tableColumn("VolumeMode", "string", "volumeMode defines what type of volume is required by the claim.", 1),
		},
		Row: tableRow(persistentVolumeClaimRow),
	}
}

func persistentVolumeClaimRow(pvc *corev1.PersistentVolumeClaim) []any {
	phase := string(pvc.Status.Phase)
	if pvc.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	// Capacity and access modes show once the claim is bound.
	capacity, modes := "", ""
	if pvc.Spec.VolumeName != "" {
		modes = formatAccessModes(pvc.Status.AccessModes)
		if q, ok := pvc.Status.Capacity[corev1.ResourceStorage]; ok {
			capacity = q.String()
		}
	}
	class := ""
	if pvc.Spec.StorageClassName != nil {
		class = *pvc.Spec.StorageClassName
	}
	return []any{
		pvc.Name,
		phase,
		pvc.Spec.VolumeName,
		capacity,
		modes,
		storageClassOf(class, pvc.Annotations),
		attributesClass(pvc.Spec.VolumeAttributesClassName),
		formatAge(pvc.CreationTimestamp),
		volumeMode(pvc.Spec.VolumeMode),
	}
}
