package rbac

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

func TestMissing(t *testing.T) {
	held := []rbacv1.PolicyRule{
		{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods", "*/status"}},
		{Verbs: []string{"*"}, APIGroups: []string{"apps"}, Resources: []string{"deployments"}},
		{Verbs: []string{"update"}, APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"a", "b"}},
		{Verbs: []string{"get"}, NonResourceURLs: []string{"/logs/*"}},
	}
	for _, tc := range []struct {
		name    string
		wanted  rbacv1.PolicyRule
		missing int
	}{
		{"subset", rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}, 0},
		{"subresource wildcard", rbacv1.PolicyRule{Verbs: []string{"list"}, APIGroups: []string{""}, Resources: []string{"services/status"}}, 0},
		{"verb star held", rbacv1.PolicyRule{Verbs: []string{"delete", "patch"}, APIGroups: []string{"apps"}, Resources: []string{"deployments"}}, 0},
		{"verb star wanted", rbacv1.PolicyRule{Verbs: []string{"*"}, APIGroups: []string{""}, Resources: []string{"pods"}}, 1},
		{"one of two verbs", rbacv1.PolicyRule{Verbs: []string{"get", "delete"}, APIGroups: []string{""}, Resources: []string{"pods"}}, 1},
		{"named within held names", rbacv1.PolicyRule{Verbs: []string{"update"}, APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"a"}}, 0},
		{"named outside", rbacv1.PolicyRule{Verbs: []string{"update"}, APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"a", "c"}}, 1},
		{"all names when only some held", rbacv1.PolicyRule{Verbs: []string{"update"}, APIGroups: []string{""}, Resources: []string{"configmaps"}}, 1},
		{"url prefix", rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/logs/kern"}}, 0},
		{"other url", rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/metrics"}}, 1},
		{"other group", rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{"batch"}, Resources: []string{"pods"}}, 1},
	} {
		if got := Missing(held, []rbacv1.PolicyRule{tc.wanted}); len(got) != tc.missing {
			t.Errorf("%s: missing %v, want %d rules", tc.name, got, tc.missing)
		}
	}
}

func TestEscalationMessage(t *testing.T) {
	got := EscalationMessage("system:serviceaccount:a:b", []string{"system:serviceaccounts", "system:authenticated"},
		[]rbacv1.PolicyRule{{Verbs: []string{"list"}, APIGroups: []string{""}, Resources: []string{"nodes"}}})
	want := `user "system:serviceaccount:a:b" (groups=["system:serviceaccounts" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:
{APIGroups:[""], Resources:["nodes"], Verbs:["list"]}`
	if got != want {
		t.Errorf("message\n%s\nwant\n%s", got, want)
	}
}
