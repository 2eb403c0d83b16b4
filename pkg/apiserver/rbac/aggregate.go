package rbac

import (
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Aggregate returns the rules an aggregated ClusterRole should hold: the
// rules of every other ClusterRole its selectors match, in name order,
// each rule once. Matched roles that are aggregated themselves contribute
// the rules they hold, so aggregation chains (view into edit into admin)
// settle as each role is brought up to date.
func Aggregate(role *rbacv1.ClusterRole, all []*rbacv1.ClusterRole) []rbacv1.PolicyRule {
	if role.AggregationRule == nil {
		return role.Rules
	}
	var selectors []labels.Selector
	for i := range role.AggregationRule.ClusterRoleSelectors {
		s, err := metav1.LabelSelectorAsSelector(&role.AggregationRule.ClusterRoleSelectors[i])
		if err == nil && !s.Empty() {
			selectors = append(selectors, s)
		}
	}
	matched := slices.Clone(all)
	slices.SortFunc(matched, func(a, b *rbacv1.ClusterRole) int { return strings.Compare(a.Name, b.Name) })
	var rules []rbacv1.PolicyRule
	for _, other := range matched {
		if other.Name == role.Name || !slices.ContainsFunc(selectors, func(s labels.Selector) bool {
			return s.Matches(labels.Set(other.Labels))
		}) {
			continue
		}
		for _, r := range other.Rules {
			if !slices.ContainsFunc(rules, func(have rbacv1.PolicyRule) bool { return apiequality.Semantic.DeepEqual(have, r) }) {
				rules = append(rules, r)
			}
		}
	}
	return rules
}
