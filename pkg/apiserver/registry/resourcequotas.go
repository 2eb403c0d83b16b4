package registry

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func resourceQuotasResource() *Resource {
	return &Resource{
		Version: "v1", Name: "resourcequotas", Singular: "resourcequota", Kind: "ResourceQuota",
		ShortNames: []string{"quota"}, Namespaced: true,
		New:          func() runtime.Object { return &corev1.ResourceQuota{} },
		NewList:      func() runtime.Object { return &corev1.ResourceQuotaList{} },
		Status:       true,
		NoGeneration: true,

		Default: typedMutate(func(q *corev1.ResourceQuota) {
			defaultResourceList(q.Spec.Hard)
		}),
		PrepareForCreate: typedMutate(func(q *corev1.ResourceQuota) { q.Status = corev1.ResourceQuotaStatus{} }),
		Validate:         typedValidate(validateResourceQuota),
		ValidateUpdate: typedValidateUpdate(func(q, _ *corev1.ResourceQuota) field.ErrorList {
			return validateResourceQuota(q)
		}),
		ValidateStatusUpdate: typedValidateUpdate(func(q, _ *corev1.ResourceQuota) field.ErrorList {
			status := field.NewPath("status")
			errs := validateResourceList(q.Status.Hard, status.Child("hard"))
			return append(errs, validateResourceList(q.Status.Used, status.Child("used"))...)
		}),
		Table: resourceQuotaTable(),
	}
}

func validateResourceQuota(q *corev1.ResourceQuota) field.ErrorList {
	specPath := field.NewPath("spec")
	errs := validateResourceList(q.Spec.Hard, specPath.Child("hard"))
	for i, s := range q.Spec.Scopes {
		errs = append(errs, validateEnum(s, specPath.Child("scopes").Index(i),
			corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeCrossNamespacePodAffinity,
			corev1.ResourceQuotaScopeNotBestEffort, corev1.ResourceQuotaScopeNotTerminating,
			corev1.ResourceQuotaScopePriorityClass, corev1.ResourceQuotaScopeTerminating,
			corev1.ResourceQuotaScopeVolumeAttributesClass)...)
	}
	if sel := q.Spec.ScopeSelector; sel != nil {
		for i, req := range sel.MatchExpressions {
			p := specPath.Child("scopeSelector", "matchExpressions").Index(i)
			errs = append(errs, validateEnum(req.Operator, p.Child("operator"),
				corev1.ScopeSelectorOpDoesNotExist, corev1.ScopeSelectorOpExists, corev1.ScopeSelectorOpIn, corev1.ScopeSelectorOpNotIn)...)
		}
	}
	return errs
}

func resourceQuotaTable() *Table {
	return &Table{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			ageColumn(),
			tableColumn("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume.", 0),
			tableColumn("Limit", "string", "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.", 0),
		},
		Row: tableRow(resourceQuotaRow),
	}
}

// resourceQuotaRow renders "name: used/hard" pairs from the status,
// limits.* resources in the Limit column and the rest in Request.
func resourceQuotaRow(q *corev1.ResourceQuota) []any {
	var requests, limits []string
	for _, name := range sortedResourceNames(q.Status.Hard) {
		hard := q.Status.Hard[name]
		used := q.Status.Used[name]
		cell := fmt.Sprintf("%s: %s/%s", name, used.String(), hard.String())
		if strings.HasPrefix(string(name), "limits.") {
			limits = append(limits, cell)
		} else {
			requests = append(requests, cell)
		}
	}
	return []any{q.Name, formatAge(q.CreationTimestamp), strings.Join(requests, ", "), strings.Join(limits, ", ")}
}
