package registry

import (
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Roles and cluster roles are plain stored policy: nothing acts on them
// when they are written, so they keep no generation and no status.

func rolesResource() *Resource {
	return &Resource{
		Group: rbacv1.GroupName, Version: "v1", Name: "roles", Kind: "Role", Singular: "role",
		Namespaced:   true,
		New:          func() runtime.Object { return &rbacv1.Role{} },
		NewList:      func() runtime.Object { return &rbacv1.RoleList{} },
		NoGeneration: true,
		ValidateName: validateRBACName,
		Validate:     typedValidate(validateRole),
		ValidateUpdate: typedValidateUpdate(func(r, _ *rbacv1.Role) field.ErrorList {
			return validateRole(r)
		}),
		Table: createdAtTable(),
	}
}

func clusterRolesResource() *Resource {
	return &Resource{
		Group: rbacv1.GroupName, Version: "v1", Name: "clusterroles", Kind: "ClusterRole", Singular: "clusterrole",
		New:          func() runtime.Object { return &rbacv1.ClusterRole{} },
		NewList:      func() runtime.Object { return &rbacv1.ClusterRoleList{} },
		NoGeneration: true,
		ValidateName: validateRBACName,
		Validate:     typedValidate(validateClusterRole),
		ValidateUpdate: typedValidateUpdate(func(r, _ *rbacv1.ClusterRole) field.ErrorList {
			return validateClusterRole(r)
		}),
		Table: createdAtTable(),
	}
}

// validateRBACName is the name rule of every RBAC object (and of the
// role a binding refers to): anything that can be a URL path segment.
func validateRBACName(name string, prefix bool) []string {
	if prefix {
		return content.IsPathSegmentPrefix(name)
	}
	return content.IsPathSegmentName(name)
}

func validateRole(r *rbacv1.Role) field.ErrorList {
	return validatePolicyRules(r.Rules, true)
}

func validateClusterRole(r *rbacv1.ClusterRole) field.ErrorList {
	errs := validatePolicyRules(r.Rules, false)
	if r.AggregationRule == nil {
		return errs
	}
	path := field.NewPath("aggregationRule", "clusterRoleSelectors")
	if len(r.AggregationRule.ClusterRoleSelectors) == 0 {
		errs = append(errs, field.Required(path, "at least one clusterRoleSelector required if aggregationRule is non-nil"))
	}
	for i := range r.AggregationRule.ClusterRoleSelectors {
		sel := &r.AggregationRule.ClusterRoleSelectors[i]
		errs = append(errs, metavalidation.ValidateLabelSelector(sel, metavalidation.LabelSelectorValidationOptions{}, path.Index(i))...)
		if _, err := metav1.LabelSelectorAsSelector(sel); err != nil {
			errs = append(errs, field.Invalid(path.Index(i), sel, "invalid label selector."))
		}
	}
	return errs
}

// validatePolicyRules checks rules[i] of a role. Namespaced roles cannot
// grant non-resource URLs, which only exist cluster-wide.
func validatePolicyRules(rules []rbacv1.PolicyRule, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	for i := range rules {
		errs = append(errs, validatePolicyRule(&rules[i], namespaced, field.NewPath("rules").Index(i))...)
	}
	return errs
}

func validatePolicyRule(rule *rbacv1.PolicyRule, namespaced bool, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(rule.Verbs) == 0 {
		errs = append(errs, field.Required(path.Child("verbs"), "verbs must contain at least one value"))
	}
	if len(rule.NonResourceURLs) > 0 {
		urlsPath := path.Child("nonResourceURLs")
		if namespaced {
			errs = append(errs, field.Invalid(urlsPath, rule.NonResourceURLs, "namespaced rules cannot apply to non-resource URLs"))
		}
		if len(rule.APIGroups)+len(rule.Resources)+len(rule.ResourceNames) > 0 {
			errs = append(errs, field.Invalid(urlsPath, rule.NonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs"))
		}
		return errs
	}
	if len(rule.APIGroups) == 0 {
		errs = append(errs, field.Required(path.Child("apiGroups"), "resource rules must supply at least one api group"))
	}
	if len(rule.Resources) == 0 {
		errs = append(errs, field.Required(path.Child("resources"), "resource rules must supply at least one resource"))
	}
	return errs
}
