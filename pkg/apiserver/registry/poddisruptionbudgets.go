package registry

import (
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func podDisruptionBudgetsResource() *Resource {
	return &Resource{
		Group: "policy", Version: "v1", Name: "poddisruptionbudgets", Kind: "PodDisruptionBudget", Singular: "poddisruptionbudget",
		ShortNames: []string{"pdb"},
		Namespaced: true,
		New:        func() runtime.Object { return &policyv1.PodDisruptionBudget{} },
		NewList:    func() runtime.Object { return &policyv1.PodDisruptionBudgetList{} },
		Status:     true,
		PrepareForCreate: typedMutate(func(p *policyv1.PodDisruptionBudget) {
			p.Status = policyv1.PodDisruptionBudgetStatus{}
		}),
		Validate: typedValidate(validatePodDisruptionBudget),
		// policy/v1 budgets may change their whole spec.
		ValidateUpdate: typedValidateUpdate(func(p, _ *policyv1.PodDisruptionBudget) field.ErrorList {
			return validatePodDisruptionBudget(p)
		}),
		ValidateStatusUpdate: typedValidateUpdate(func(p, _ *policyv1.PodDisruptionBudget) field.ErrorList {
			s := &p.Status
			return validateNonnegatives(field.NewPath("status"), map[string]int64{
				"disruptionsAllowed": int64(s.DisruptionsAllowed), "currentHealthy": int64(s.CurrentHealthy),
				"desiredHealthy": int64(s.DesiredHealthy), "expectedPods": int64(s.ExpectedPods),
			})
		}),
		Table: podDisruptionBudgetsTable(),
	}
}

func validatePodDisruptionBudget(p *policyv1.PodDisruptionBudget) field.ErrorList {
	spec := &p.Spec
	path := field.NewPath("spec")
	var errs field.ErrorList
	if spec.MinAvailable != nil && spec.MaxUnavailable != nil {
		errs = append(errs, field.Invalid(path, spec, "minAvailable and maxUnavailable cannot be both set"))
	}
	if spec.MinAvailable != nil {
		errs = append(errs, validateIntOrPercent(*spec.MinAvailable, path.Child("minAvailable"), true)...)
	}
	if spec.MaxUnavailable != nil {
		errs = append(errs, validateIntOrPercent(*spec.MaxUnavailable, path.Child("maxUnavailable"), true)...)
	}
	if spec.Selector != nil {
		errs = append(errs, metavalidation.ValidateLabelSelector(spec.Selector, metavalidation.LabelSelectorValidationOptions{}, path.Child("selector"))...)
	}
	if spec.UnhealthyPodEvictionPolicy != nil {
		errs = append(errs, validateEnum(*spec.UnhealthyPodEvictionPolicy, path.Child("unhealthyPodEvictionPolicy"),
			policyv1.IfHealthyBudget, policyv1.AlwaysAllow)...)
	}
	return errs
}

func podDisruptionBudgetsTable() *Table {
	return &Table{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			tableColumn("Min Available", "string", "The minimum number of pods that must be available.", 0),
			tableColumn("Max Unavailable", "string", "The maximum number of pods that may be unavailable.", 0),
			tableColumn("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time.", 0),
			ageColumn(),
		},
		Row: tableRow(func(p *policyv1.PodDisruptionBudget) []any {
			minAvailable, maxUnavailable := "N/A", "N/A"
			if p.Spec.MinAvailable != nil {
				minAvailable = p.Spec.MinAvailable.String()
			}
			if p.Spec.MaxUnavailable != nil {
				maxUnavailable = p.Spec.MaxUnavailable.String()
			}
			return []any{p.Name, minAvailable, maxUnavailable, int64(p.Status.DisruptionsAllowed), formatAge(p.CreationTimestamp)}
		}),
	}
}
