package rbac

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func roleNamed(roles []*rbacv1.ClusterRole, name string) *rbacv1.ClusterRole {
	for _, r := range roles {
		if r.Name == name {
			return r
		}
	}
	return nil
}

func allows(rules []rbacv1.PolicyRule, verb, group, resource string) bool {
	a := Attributes{ResourceRequest: true, Verb: verb, APIGroup: group, Resource: resource}
	for i := range rules {
		if RuleAllows(&rules[i], a) {
			return true
		}
	}
	return false
}

// The default admin, edit and view roles chain as in Kubernetes: view
// into edit into admin, each holding what it aggregates from the start.
func TestDefaultRolesAggregate(t *testing.T) {
	roles := DefaultClusterRoles()
	view, edit, admin := roleNamed(roles, "view"), roleNamed(roles, "edit"), roleNamed(roles, "admin")
	for _, tc := range []struct {
		role                  *rbacv1.ClusterRole
		verb, group, resource string
		want                  bool
	}{
		{view, "list", "", "pods", true},
		{view, "list", "", "secrets", false},
		{view, "create", "apps", "deployments", false},
		{edit, "list", "", "pods", true},
		{edit, "create", "apps", "deployments", true},
		{edit, "create", "rbac.authorization.k8s.io", "roles", false},
		{admin, "list", "", "pods", true},
		{admin, "create", "apps", "deployments", true},
		{admin, "create", "rbac.authorization.k8s.io", "roles", true},
	} {
		if got := allows(tc.role.Rules, tc.verb, tc.group, tc.resource); got != tc.want {
			t.Errorf("%s %s %s/%s = %v, want %v", tc.role.Name, tc.verb, tc.group, tc.resource, got, tc.want)
		}
	}
}

// A user's role labelled aggregate-to-view reaches view, and through it
// edit and admin as they are brought up to date in turn; each rule once.
func TestAggregateChainsAndDedupes(t *testing.T) {
	roles := DefaultClusterRoles()
	extra := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "widgets-view",
		Labels: map[string]string{AggregateLabelPrefix + "view": "true"}},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{"example.com"}, Resources: []string{"widgets"}}}}
	dup := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "widgets-view-again",
		Labels: map[string]string{AggregateLabelPrefix + "view": "true"}}, Rules: extra.Rules}
	roles = append(roles, extra, dup)
	for _, name := range []string{"view", "edit", "admin"} {
		r := roleNamed(roles, name)
		r.Rules = Aggregate(r, roles)
		if !allows(r.Rules, "get", "example.com", "widgets") {
			t.Errorf("%s lacks the aggregated widgets rule", name)
		}
	}
	n := 0
	for _, r := range roleNamed(roles, "view").Rules {
		if len(r.APIGroups) == 1 && r.APIGroups[0] == "example.com" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("view holds the widgets rule %d times, want once", n)
	}
	plain := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "plain"}, Rules: extra.Rules}
	if got := Aggregate(plain, roles); len(got) != 1 {
		t.Errorf("a role without aggregationRule keeps its rules: %v", got)
	}
}
