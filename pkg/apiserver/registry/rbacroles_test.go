package registry

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// podReader is a valid resource rule.
var podReader = rbacv1.PolicyRule{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods"}}

func TestPolicyRules(t *testing.T) {
	healthz := rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}}
	cases := []struct {
		name           string
		rule           rbacv1.PolicyRule
		role, cluster  []string // errors in a Role, in a ClusterRole
		sameForCluster bool
	}{
		{name: "resource rule", rule: podReader, sameForCluster: true},
		{name: "resource names", rule: mutatedRule(podReader, func(r *rbacv1.PolicyRule) { r.ResourceNames = []string{"web"} }), sameForCluster: true},
		{name: "no verbs", rule: mutatedRule(podReader, func(r *rbacv1.PolicyRule) { r.Verbs = nil }),
			role: []string{"rules[0].verbs: Required value: verbs must contain at least one value"}, sameForCluster: true},
		{name: "no api groups", rule: mutatedRule(podReader, func(r *rbacv1.PolicyRule) { r.APIGroups = nil }),
			role: []string{"rules[0].apiGroups: Required value: resource rules must supply at least one api group"}, sameForCluster: true},
		{name: "no resources", rule: mutatedRule(podReader, func(r *rbacv1.PolicyRule) { r.Resources = nil }),
			role: []string{"rules[0].resources: Required value: resource rules must supply at least one resource"}, sameForCluster: true},
		{name: "empty rule", rule: rbacv1.PolicyRule{}, role: []string{
			"rules[0].verbs: Required value: verbs must contain at least one value",
			"rules[0].apiGroups: Required value: resource rules must supply at least one api group",
			"rules[0].resources: Required value: resource rules must supply at least one resource",
		}, sameForCluster: true},
		{name: "non-resource URL", rule: healthz,
			role: []string{"rules[0].nonResourceURLs: Invalid value: namespaced rules cannot apply to non-resource URLs"}},
		{name: "mixed rule", rule: mutatedRule(healthz, func(r *rbacv1.PolicyRule) { r.Resources = []string{"pods"} }),
			role: []string{
				"rules[0].nonResourceURLs: Invalid value: namespaced rules cannot apply to non-resource URLs",
				"rules[0].nonResourceURLs: Invalid value: rules cannot apply to both regular resources and non-resource URLs",
			},
			cluster: []string{"rules[0].nonResourceURLs: Invalid value: rules cannot apply to both regular resources and non-resource URLs"}},
	}
	roles, clusterRoles := groupResource(t, "roles"), groupResource(t, "clusterroles")
	for _, c := range cases {
		role := &rbacv1.Role{ObjectMeta: objectMeta("r"), Rules: []rbacv1.PolicyRule{c.rule}}
		checkErrors(t, "role: "+c.name, createErrors(roles, role), c.role)
		checkErrors(t, "role update: "+c.name, updateErrors(roles, role, role.DeepCopy()), c.role)
		want := c.cluster
		if c.sameForCluster {
			want = c.role
		}
		cr := &rbacv1.ClusterRole{ObjectMeta: objectMeta("r"), Rules: []rbacv1.PolicyRule{c.rule}}
		checkErrors(t, "cluster role: "+c.name, createErrors(clusterRoles, cr), want)
	}
}

func mutatedRule(r rbacv1.PolicyRule, mutate func(*rbacv1.PolicyRule)) rbacv1.PolicyRule {
	c := *r.DeepCopy()
	mutate(&c)
	return c
}

func TestClusterRoleAggregation(t *testing.T) {
	r := groupResource(t, "clusterroles")
	aggregated := func(selectors ...metav1.LabelSelector) *rbacv1.ClusterRole {
		return &rbacv1.ClusterRole{ObjectMeta: objectMeta("monitoring"), AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: selectors}}
	}
	cases := []struct {
		name string
		obj  *rbacv1.ClusterRole
		want []string
	}{
		{"no aggregation", &rbacv1.ClusterRole{ObjectMeta: objectMeta("plain")}, nil},
		{"selector", aggregated(metav1.LabelSelector{MatchLabels: map[string]string{"rbac.example.com/aggregate-to-monitoring": "true"}}), nil},
		{"no selectors", aggregated(), []string{
			"aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil"}},
		{"bad selector", aggregated(metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn}}}), []string{
			"aggregationRule.clusterRoleSelectors[0].matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
			"aggregationRule.clusterRoleSelectors[0]: Invalid value: invalid label selector.",
		}},
	}
	for _, c := range cases {
		checkErrors(t, c.name, createErrors(r, c.obj), c.want)
	}
}

func TestRBACNames(t *testing.T) {
	for _, name := range []string{"roles", "clusterroles", "rolebindings", "clusterrolebindings"} {
		r := groupResource(t, name)
		if msgs := r.ValidateName("system:controller:job-controller", false); len(msgs) != 0 {
			t.Errorf("%s: colon name rejected: %v", name, msgs)
		}
		if diff := cmp.Diff([]string{"may not contain '/'"}, r.ValidateName("a/b", false)); diff != "" {
			t.Errorf("%s: slash name (-want +got):\n%s", name, diff)
		}
		if diff := cmp.Diff([]string{"may not be '..'"}, r.ValidateName("..", false)); diff != "" {
			t.Errorf("%s: dot-dot name (-want +got):\n%s", name, diff)
		}
		if msgs := r.ValidateName("..", true); len(msgs) != 0 {
			t.Errorf("%s: generateName prefix '..' rejected: %v", name, msgs)
		}
	}
}

func TestRoleTables(t *testing.T) {
	created := time.Date(2024, 5, 6, 7, 8, 9, 0, time.FixedZone("CEST", 2*3600))
	for _, name := range []string{"roles", "clusterroles"} {
		r := groupResource(t, name)
		if diff := cmp.Diff([]string{"NAME", "CREATED AT"}, columnNames(r)); diff != "" {
			t.Errorf("%s columns (-want +got):\n%s", name, diff)
		}
		if got := r.Table.Columns[1].Type; got != "date" {
			t.Errorf("%s: CREATED AT type %q, want date", name, got)
		}
		meta := metav1.ObjectMeta{Name: "pod-reader", Namespace: "default", CreationTimestamp: metav1.NewTime(created)}
		obj := r.New()
		switch o := obj.(type) {
		case *rbacv1.Role:
			o.ObjectMeta = meta
		case *rbacv1.ClusterRole:
			o.ObjectMeta = meta
		}
		checkRow(t, r, obj, []any{"pod-reader", "2024-05-06T05:08:09Z"})
	}
}
