package rbac

import (
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/component-helpers/auth/rbac/validation"
)

// Missing returns the parts of wanted that held does not cover, each as a
// rule of one verb, group, resource and name (or one verb and URL), with
// Kubernetes' own comparison: a "*" in wanted is covered only by a "*" in
// held.
func Missing(held, wanted []rbacv1.PolicyRule) []rbacv1.PolicyRule {
	_, missing := validation.Covers(held, wanted)
	return missing
}

// FullAuthority is every permission: what it takes to write a ClusterRole
// with an aggregationRule, which can gather any other role's rules.
var FullAuthority = []rbacv1.PolicyRule{
	{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}},
	{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}},
}

// EscalationMessage is Kubernetes' sentence for a write that would grant
// permissions its author does not hold.
func EscalationMessage(user string, groups []string, missing []rbacv1.PolicyRule) string {
	quoted := make([]string, len(groups))
	for i, g := range groups {
		quoted[i] = fmt.Sprintf("%q", g)
	}
	rules := make([]string, len(missing))
	for i, r := range missing {
		rules[i] = compact(r)
	}
	return fmt.Sprintf("user %q (groups=[%s]) is attempting to grant RBAC permissions not currently held:\n%s",
		user, strings.Join(quoted, " "), strings.Join(rules, "\n"))
}

func compact(r rbacv1.PolicyRule) string {
	var parts []string
	add := func(name string, list []string) {
		if len(list) == 0 {
			return
		}
		q := make([]string, len(list))
		for i, s := range list {
			q[i] = fmt.Sprintf("%q", s)
		}
		parts = append(parts, name+":["+strings.Join(q, ", ")+"]")
	}
	add("APIGroups", r.APIGroups)
	add("Resources", r.Resources)
	add("ResourceNames", r.ResourceNames)
	add("NonResourceURLs", r.NonResourceURLs)
	add("Verbs", r.Verbs)
	return "{" + strings.Join(parts, ", ") + "}"
}
