package registry

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func serviceAccountsResource() *Resource {
	return &Resource{
		Version: "v1", Name: "serviceaccounts", Singular: "serviceaccount", Kind: "ServiceAccount",
		ShortNames: []string{"sa"}, Namespaced: true,
		New:          func() runtime.Object { return &corev1.ServiceAccount{} },
		NewList:      func() runtime.Object { return &corev1.ServiceAccountList{} },
		NoGeneration: true,

		Validate:       typedValidate(validateServiceAccount),
		ValidateUpdate: typedValidateUpdate(func(sa, _ *corev1.ServiceAccount) field.ErrorList { return validateServiceAccount(sa) }),
		Table: &Table{
			Columns: []metav1.TableColumnDefinition{
				nameColumn(),
				tableColumn("Secrets", "string", "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.", 0),
				ageColumn(),
			},
			Row: tableRow(func(sa *corev1.ServiceAccount) []any {
				return []any{sa.Name, int64(len(sa.Secrets)), formatAge(sa.CreationTimestamp)}
			}),
		},
	}
}

func validateServiceAccount(sa *corev1.ServiceAccount) field.ErrorList {
	var errs field.ErrorList
	for i, s := range sa.ImagePullSecrets {
		if s.Name == "" {
			errs = append(errs, field.Required(field.NewPath("imagePullSecrets").Index(i).Child("name"), ""))
		}
	}
	return errs
}
