package rbac

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type fakeSource struct {
	crbs  []*rbacv1.ClusterRoleBinding
	rbs   []*rbacv1.RoleBinding
	crs   []*rbacv1.ClusterRole
	roles []*rbacv1.Role
}

func (f *fakeSource) ClusterRoleBindings() []*rbacv1.ClusterRoleBinding { return f.crbs }

func (f *fakeSource) RoleBindings(ns string) []*rbacv1.RoleBinding {
	var out []*rbacv1.RoleBinding
	for _, b := range f.rbs {
		if b.Namespace == ns {
			out = append(out, b)
		}
	}
	return out
}

func (f *fakeSource) ClusterRole(name string) *rbacv1.ClusterRole {
	for _, r := range f.crs {
		if r.Name == name {
			return r
		}
	}
	return nil
}

func (f *fakeSource) Role(ns, name string) *rbacv1.Role {
	for _, r := range f.roles {
		if r.Namespace == ns && r.Name == name {
			return r
		}
	}
	return nil
}

func policy() *fakeSource {
	src := &fakeSource{crs: DefaultClusterRoles(), crbs: DefaultClusterRoleBindings()}
	src.roles = []*rbacv1.Role{{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "pod-reader"},
		Rules: []rbacv1.PolicyRule{
			{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods", "pods/log"}},
			{Verbs: []string{"update"}, APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"settings"}},
		},
	}}
	src.rbs = []*rbacv1.RoleBinding{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "readers"},
			RoleRef:  rbacv1.RoleRef{Kind: "Role", Name: "pod-reader"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "builder"}, {Kind: "User", Name: "alice"}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "editors"},
			RoleRef:  rbacv1.RoleRef{Kind: "ClusterRole", Name: "edit"},
			Subjects: []rbacv1.Subject{{Kind: "Group", Name: "devs"}}},
	}
	src.crs = append(src.crs,
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "monitoring"},
			AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
				{MatchLabels: map[string]string{"aggregate-to-monitoring": "true"}}}}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "node-reader", Labels: map[string]string{"aggregate-to-monitoring": "true"}},
			Rules: []rbacv1.PolicyRule{{Verbs: []string{"list"}, APIGroups: []string{""}, Resources: []string{"nodes"}}}})
	// The aggregation controller fills aggregated roles.
	for _, cr := range src.crs {
		cr.Rules = Aggregate(cr, src.crs)
	}
	src.crbs = append(src.crbs, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "mon"},
		RoleRef:  rbacv1.RoleRef{Kind: "ClusterRole", Name: "monitoring"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: "mon", Name: "scraper"}}})
	return src
}

func res(user string, groups []string, verb, group, resource, sub, ns, name string) Attributes {
	return Attributes{User: user, Groups: append(groups, AuthenticatedGroup), Verb: verb, ResourceRequest: true,
		APIGroup: group, Resource: resource, Subresource: sub, Namespace: ns, Name: name}
}

func TestAllowed(t *testing.T) {
	src := policy()
	builder := "system:serviceaccount:team:builder"
	for _, tc := range []struct {
		name string
		a    Attributes
		want bool
	}{
		{"role grants get", res(builder, nil, "get", "", "pods", "", "team", "web"), true},
		{"role grants subresource", res(builder, nil, "get", "", "pods", "log", "team", "web"), true},
		{"subresource not granted", res(builder, nil, "create", "", "pods", "exec", "team", "web"), false},
		{"other verb", res(builder, nil, "delete", "", "pods", "", "team", "web"), false},
		{"other namespace", res(builder, nil, "get", "", "pods", "", "prod", "web"), false},
		{"other account", res("system:serviceaccount:team:other", nil, "get", "", "pods", "", "team", "web"), false},
		{"same name other namespace", res("system:serviceaccount:prod:builder", nil, "get", "", "pods", "", "team", "web"), false},
		{"user subject", res("alice", nil, "list", "", "pods", "", "team", ""), true},
		{"resourceNames match", res("alice", nil, "update", "", "configmaps", "", "team", "settings"), true},
		{"resourceNames miss", res("alice", nil, "update", "", "configmaps", "", "team", "other"), false},
		{"group via clusterrole in namespace", res("bob", []string{"devs"}, "create", "apps", "deployments", "", "team", ""), true},
		{"edit has no rbac", res("bob", []string{"devs"}, "create", "rbac.authorization.k8s.io", "roles", "", "team", ""), false},
		{"clusterrole bound in namespace stays there", res("bob", []string{"devs"}, "create", "apps", "deployments", "", "prod", ""), false},
		{"masters", res("root", []string{MastersGroup}, "delete", "", "nodes", "", "", "n1"), true},
		{"aggregated role", res("system:serviceaccount:mon:scraper", nil, "list", "", "nodes", "", "", ""), true},
		{"aggregated role only what is aggregated", res("system:serviceaccount:mon:scraper", nil, "delete", "", "nodes", "", "", "n"), false},
		{"basic user self review", res("carol", nil, "create", "authorization.k8s.io", "selfsubjectaccessreviews", "", "", ""), true},
		{"discovery", Attributes{User: "carol", Groups: []string{AuthenticatedGroup}, Verb: "get", Path: "/apis/apps/v1"}, true},
		{"post to discovery", Attributes{User: "carol", Groups: []string{AuthenticatedGroup}, Verb: "post", Path: "/apis"}, false},
		{"other path", Attributes{User: "carol", Groups: []string{AuthenticatedGroup}, Verb: "get", Path: "/debug/pprof/"}, false},
		{"anonymous health", Attributes{User: "system:anonymous", Groups: []string{UnauthenticatedGroup}, Verb: "get", Path: "/readyz"}, true},
	} {
		if got := Allowed(src, tc.a); got != tc.want {
			t.Errorf("%s: Allowed = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestReason(t *testing.T) {
	for _, tc := range []struct {
		a    Attributes
		want string
	}{
		{res("system:serviceaccount:team:builder", nil, "list", "", "pods", "", "team", ""),
			`User "system:serviceaccount:team:builder" cannot list resource "pods" in API group "" in the namespace "team"`},
		{res("bob", nil, "get", "", "nodes", "proxy", "", "n1"),
			`User "bob" cannot get resource "nodes/proxy" in API group "" at the cluster scope`},
		{Attributes{User: "bob", Verb: "get", Path: "/metrics"}, `User "bob" cannot get path "/metrics"`},
	} {
		if got := Reason(tc.a); got != tc.want {
			t.Errorf("Reason = %s\nwant     %s", got, tc.want)
		}
	}
}

func TestRules(t *testing.T) {
	rules := Rules(policy(), "system:serviceaccount:team:builder", []string{AuthenticatedGroup}, "team")
	var readsPods, discovery bool
	for _, r := range rules {
		for _, res := range r.Resources {
			readsPods = readsPods || res == "pods"
		}
		for _, u := range r.NonResourceURLs {
			discovery = discovery || u == "/apis/*"
		}
	}
	if !readsPods || !discovery {
		t.Errorf("rules = %+v: want the role's pod rule and the discovery rule", rules)
	}
}
