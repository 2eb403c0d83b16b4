package rbac

import (
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AutoUpdateAnnotation set to "false" on a default role or binding keeps
// the server from adding what a newer default has to it.
const AutoUpdateAnnotation = "rbac.authorization.kubernetes.io/autoupdate"

// ReconcileRole brings a stored default ClusterRole up to the current
// default without taking anything away, as Kubernetes does at start: the
// default's labels, rules not yet covered and aggregation selectors are
// added. It returns the role to store and whether it changed; a role
// annotated autoupdate "false" is left alone.
func ReconcileRole(stored, want *rbacv1.ClusterRole) (*rbacv1.ClusterRole, bool) {
	if stored.Annotations[AutoUpdateAnnotation] == "false" {
		return stored, false
	}
	out := stored.DeepCopy()
	changed := addLabels(&out.Labels, want.Labels)
	if want.AggregationRule != nil {
		if out.AggregationRule == nil {
			out.AggregationRule = &rbacv1.AggregationRule{}
		}
		for _, sel := range want.AggregationRule.ClusterRoleSelectors {
			if !slices.ContainsFunc(out.AggregationRule.ClusterRoleSelectors, func(have metav1.LabelSelector) bool {
				return apiequality.Semantic.DeepEqual(have, sel)
			}) {
				out.AggregationRule.ClusterRoleSelectors = append(out.AggregationRule.ClusterRoleSelectors, sel)
				changed = true
			}
		}
		// The aggregation controller writes the rules.
		return out, changed
	}
	for _, r := range want.Rules {
		if len(Missing(out.Rules, []rbacv1.PolicyRule{r})) > 0 {
			out.Rules = append(out.Rules, r)
			changed = true
		}
	}
	return out, changed
}

// ReconcileBinding adds the default's labels and subjects to a stored
// default ClusterRoleBinding with the same roleRef; one annotated
// autoupdate "false", or bound to another role, is left alone.
func ReconcileBinding(stored, want *rbacv1.ClusterRoleBinding) (*rbacv1.ClusterRoleBinding, bool) {
	if stored.Annotations[AutoUpdateAnnotation] == "false" || stored.RoleRef != want.RoleRef {
		return stored, false
	}
	out := stored.DeepCopy()
	changed := addLabels(&out.Labels, want.Labels)
	for _, s := range want.Subjects {
		if !slices.Contains(out.Subjects, s) {
			out.Subjects = append(out.Subjects, s)
			changed = true
		}
	}
	return out, changed
}

func addLabels(into *map[string]string, want map[string]string) bool {
	changed := false
	for k, v := range want {
		if (*into)[k] != v {
			if *into == nil {
				*into = map[string]string{}
			}
			(*into)[k] = v
			changed = true
		}
	}
	return changed
}
