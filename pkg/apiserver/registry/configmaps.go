package registry

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func configMapsResource() *Resource {
	return &Resource{
		Version: "v1", Name: "configmaps", Singular: "configmap", Kind: "ConfigMap",
		ShortNames: []string{"cm"}, Namespaced: true,
		New:          func() runtime.Object { return &corev1.ConfigMap{} },
		NewList:      func() runtime.Object { return &corev1.ConfigMapList{} },
		NoGeneration: true,

		Validate:       typedValidate(validateConfigMap),
		ValidateUpdate: typedValidateUpdate(validateConfigMapUpdate),
		Table: &Table{
			Columns: []metav1.TableColumnDefinition{
				nameColumn(),
				tableColumn("Data", "integer", "Number of data in the config map", 0),
				ageColumn(),
			},
			Row: tableRow(func(cm *corev1.ConfigMap) []any {
				return []any{cm.Name, int64(len(cm.Data) + len(cm.BinaryData)), formatAge(cm.CreationTimestamp)}
			}),
		},
	}
}

func validateConfigMap(cm *corev1.ConfigMap) field.ErrorList {
	var errs field.ErrorList
	size := 0
	for _, key := range sortedKeys(cm.Data) {
		size += len(cm.Data[key])
		errs = append(errs, validateDataKey(key, field.NewPath("data").Key(key))...)
	}
	for _, key := range sortedKeys(cm.BinaryData) {
		size += len(cm.BinaryData[key])
		p := field.NewPath("binaryData").Key(key)
		errs = append(errs, validateDataKey(key, p)...)
		if _, dup := cm.Data[key]; dup {
			errs = append(errs, field.Invalid(p, key, "duplicate of key present in data"))
		}
	}
	if size > corev1.MaxSecretSize {
		errs = append(errs, field.TooLong(field.NewPath(""), "", corev1.MaxSecretSize))
	}
	return errs
}

// validateDataKey checks a key of a configmap or secret.
func validateDataKey(key string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsConfigMapKey(key) {
		errs = append(errs, field.Invalid(p, key, msg))
	}
	return errs
}

// validateImmutableData enforces `immutable: true`: once set it stays,
// and the data may no longer change.
func validateImmutableData(immutable, oldImmutable *bool, dataEqual bool) field.ErrorList {
	if oldImmutable == nil || !*oldImmutable {
		return nil
	}
	var errs field.ErrorList
	if immutable == nil || !*immutable {
		errs = append(errs, field.Forbidden(field.NewPath("immutable"), "field is immutable when `immutable` is set"))
	}
	if !dataEqual {
		errs = append(errs, field.Forbidden(field.NewPath("data"), "field is immutable when `immutable` is set"))
	}
	return errs
}

func validateConfigMapUpdate(cm, old *corev1.ConfigMap) field.ErrorList {
	errs := validateConfigMap(cm)
	same := equalStringMaps(cm.Data, old.Data) && equalBytesMaps(cm.BinaryData, old.BinaryData)
	return append(errs, validateImmutableData(cm.Immutable, old.Immutable, same)...)
}
