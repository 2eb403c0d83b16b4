package registry

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// maxStorageClassParametersSize bounds the total size of parameter keys
// and values.
const maxStorageClassParametersSize = 256 * (1 << 10)

// defaultStorageClassAnnotation marks the class used for claims that name
// none.
const defaultStorageClassAnnotation = "storageclass.kubernetes.io/is-default-class"

func storageClassesResource() *Resource {
	return &Resource{
		Group: "storage.k8s.io", Version: "v1", Name: "storageclasses", Kind: "StorageClass", Singular: "storageclass",
		ShortNames:     []string{"sc"},
		New:            func() runtime.Object { return &storagev1.StorageClass{} },
		NewList:        func() runtime.Object { return &storagev1.StorageClassList{} },
		NoGeneration:   true,
		Default:        typedMutate(defaultStorageClass),
		Validate:       typedValidate(validateStorageClass),
		ValidateUpdate: typedValidateUpdate(validateStorageClassUpdate),
		Table:          storageClassesTable(),
	}
}

func defaultStorageClass(sc *storagev1.StorageClass) {
	if sc.ReclaimPolicy == nil {
		sc.ReclaimPolicy = ptr.To(corev1.PersistentVolumeReclaimDelete)
	}
	if sc.VolumeBindingMode == nil {
		sc.VolumeBindingMode = ptr.To(storagev1.VolumeBindingImmediate)
	}
}

func validateStorageClass(sc *storagev1.StorageClass) field.ErrorList {
	var errs field.ErrorList
	provPath := field.NewPath("provisioner")
	if sc.Provisioner == "" {
		errs = append(errs, field.Required(provPath, sc.Provisioner))
	} else {
		for _, msg := range validation.IsQualifiedName(strings.ToLower(sc.Provisioner)) {
			errs = append(errs, field.Invalid(provPath, sc.Provisioner, msg))
		}
	}
	errs = append(errs, validateStorageClassParameters(sc.Parameters, field.NewPath("parameters"))...)
	if sc.ReclaimPolicy != nil {
		errs = append(errs, validateEnum(*sc.ReclaimPolicy, field.NewPath("reclaimPolicy"),
			corev1.PersistentVolumeReclaimDelete, corev1.PersistentVolumeReclaimRetain)...)
	}
	modePath := field.NewPath("volumeBindingMode")
	if sc.VolumeBindingMode == nil {
		errs = append(errs, field.Required(modePath, ""))
	} else {
		errs = append(errs, validateEnum(*sc.VolumeBindingMode, modePath,
			storagev1.VolumeBindingImmediate, storagev1.VolumeBindingWaitForFirstConsumer)...)
	}
	return errs
}

func validateStorageClassParameters(params map[string]string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	size := 0
	for k, v := range params {
		if k == "" {
			errs = append(errs, field.Invalid(path, k, "field can not be empty."))
		}
		size += len(k) + len(v)
	}
	if size > maxStorageClassParametersSize {
		errs = append(errs, field.TooLong(path, "", maxStorageClassParametersSize))
	}
	return errs
}

// validateStorageClassUpdate keeps what existing volumes were provisioned
// with: provisioner, parameters, reclaim policy and binding mode.
func validateStorageClassUpdate(sc, old *storagev1.StorageClass) field.ErrorList {
	errs := validateStorageClass(sc)
	if !equality.Semantic.DeepEqual(sc.Parameters, old.Parameters) {
		errs = append(errs, field.Forbidden(field.NewPath("parameters"), "updates to parameters are forbidden."))
	}
	if sc.Provisioner != old.Provisioner {
		errs = append(errs, field.Forbidden(field.NewPath("provisioner"), "updates to provisioner are forbidden."))
	}
	if !equality.Semantic.DeepEqual(sc.ReclaimPolicy, old.ReclaimPolicy) {
		errs = append(errs, field.Forbidden(field.NewPath("reclaimPolicy"), "updates to reclaimPolicy are forbidden."))
	}
	return append(errs, validateImmutable(sc.VolumeBindingMode, old.VolumeBindingMode, field.NewPath("volumeBindingMode"))...)
}

func storageClassesTable() *Table {
	doc := storagev1.StorageClass{}.SwaggerDoc()
	return &Table{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			tableColumn("Provisioner", "string", doc["provisioner"], 0),
			tableColumn("ReclaimPolicy", "string", doc["reclaimPolicy"], 0),
			tableColumn("VolumeBindingMode", "string", doc["volumeBindingMode"], 0),
			tableColumn("AllowVolumeExpansion", "string", doc["allowVolumeExpansion"], 0),
			ageColumn(),
		},
		Row: tableRow(func(sc *storagev1.StorageClass) []any {
			name := sc.Name
			if sc.Annotations[defaultStorageClassAnnotation] == "true" {
				name += " (default)"
			}
			return []any{name, sc.Provisioner,
				string(ptr.Deref(sc.ReclaimPolicy, corev1.PersistentVolumeReclaimDelete)),
				string(ptr.Deref(sc.VolumeBindingMode, storagev1.VolumeBindingImmediate)),
				ptr.Deref(sc.AllowVolumeExpansion, false), formatAge(sc.CreationTimestamp)}
		}),
	}
}
