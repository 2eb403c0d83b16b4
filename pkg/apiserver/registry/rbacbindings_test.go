package registry

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// bindingCase describes a binding by its parts, so one table serves both
// binding kinds.
type bindingCase struct {
	name     string
	ref      rbacv1.RoleRef
	subjects []rbacv1.Subject
	// errors reported for a RoleBinding and for a ClusterRoleBinding
	namespaced, cluster []string
}

func roleRef(kind, name string) rbacv1.RoleRef {
	return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: name}
}

func TestBindingValidation(t *testing.T) {
	view := roleRef("ClusterRole", "view")
	sa := rbacv1.Subject{Kind: "ServiceAccount", Name: "builder", Namespace: "ci"}
	user := rbacv1.Subject{Kind: "User", Name: "jane", APIGroup: rbacv1.GroupName}
	cases := []bindingCase{
		{name: "valid", ref: view, subjects: []rbacv1.Subject{sa, user, {Kind: "Group", Name: "devs"}}},
		{name: "no subjects", ref: view},
		{name: "role ref to a Role", ref: roleRef("Role", "pod-reader"),
			cluster: []string{`roleRef.kind: Unsupported value: supported values: "ClusterRole"`}},
		{name: "unknown role kind", ref: roleRef("Policy", "x"),
			namespaced: []string{`roleRef.kind: Unsupported value: supported values: "Role", "ClusterRole"`},
			cluster:    []string{`roleRef.kind: Unsupported value: supported values: "ClusterRole"`}},
		{name: "other api group", ref: rbacv1.RoleRef{APIGroup: "example.com", Kind: "ClusterRole", Name: "view"},
			namespaced: []string{`roleRef.apiGroup: Unsupported value: supported values: "rbac.authorization.k8s.io"`},
			cluster:    []string{`roleRef.apiGroup: Unsupported value: supported values: "rbac.authorization.k8s.io"`}},
		{name: "no role name", ref: roleRef("ClusterRole", ""),
			namespaced: []string{"roleRef.name: Required value: "}, cluster: []string{"roleRef.name: Required value: "}},
		{name: "bad role name", ref: roleRef("ClusterRole", "a%b"),
			namespaced: []string{"roleRef.name: Invalid value: may not contain '%'"},
			cluster:    []string{"roleRef.name: Invalid value: may not contain '%'"}},
		{name: "service account without namespace", ref: view, subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "builder"}},
			cluster: []string{"subjects[0].namespace: Required value: "}},
		{name: "service account api group", ref: view, subjects: []rbacv1.Subject{mutatedSubject(sa, func(s *rbacv1.Subject) { s.APIGroup = rbacv1.GroupName })},
			namespaced: []string{`subjects[0].apiGroup: Unsupported value: supported values: ""`},
			cluster:    []string{`subjects[0].apiGroup: Unsupported value: supported values: ""`}},
		{name: "service account name", ref: view, subjects: []rbacv1.Subject{user, mutatedSubject(sa, func(s *rbacv1.Subject) { s.Name = "Builder" })},
			namespaced: []string{"subjects[1].name: Invalid value: " + dns1123SubdomainMessage},
			cluster:    []string{"subjects[1].name: Invalid value: " + dns1123SubdomainMessage}},
		{name: "user api group", ref: view, subjects: []rbacv1.Subject{mutatedSubject(user, func(s *rbacv1.Subject) { s.APIGroup = "v1" })},
			namespaced: []string{`subjects[0].apiGroup: Unsupported value: supported values: "rbac.authorization.k8s.io"`},
			cluster:    []string{`subjects[0].apiGroup: Unsupported value: supported values: "rbac.authorization.k8s.io"`}},
		{name: "unnamed group", ref: view, subjects: []rbacv1.Subject{{Kind: "Group"}},
			namespaced: []string{"subjects[0].name: Required value: "}, cluster: []string{"subjects[0].name: Required value: "}},
		{name: "unknown subject kind", ref: view, subjects: []rbacv1.Subject{{Kind: "Robot", Name: "r2"}},
			namespaced: []string{`subjects[0].kind: Unsupported value: supported values: "ServiceAccount", "User", "Group"`},
			cluster:    []string{`subjects[0].kind: Unsupported value: supported values: "ServiceAccount", "User", "Group"`}},
	}
	rb, crb := groupResource(t, "rolebindings"), groupResource(t, "clusterrolebindings")
	for _, c := range cases {
		checkErrors(t, "rolebinding: "+c.name, createErrors(rb, newRoleBinding(c.ref, c.subjects)), c.namespaced)
		checkErrors(t, "clusterrolebinding: "+c.name, createErrors(crb, newClusterRoleBinding(c.ref, c.subjects)), c.cluster)
	}
}

// dns1123SubdomainMessage is what Kubernetes says of a name that is not a
// DNS-1123 subdomain.
const dns1123SubdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"

func mutatedSubject(s rbacv1.Subject, mutate func(*rbacv1.Subject)) rbacv1.Subject {
	mutate(&s)
	return s
}

func newRoleBinding(ref rbacv1.RoleRef, subjects []rbacv1.Subject) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{ObjectMeta: objectMeta("b"), RoleRef: ref, Subjects: subjects}
}

func newClusterRoleBinding(ref rbacv1.RoleRef, subjects []rbacv1.Subject) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{ObjectMeta: objectMeta("b"), RoleRef: ref, Subjects: subjects}
}

func TestBindingDefaults(t *testing.T) {
	subjects := func() []rbacv1.Subject {
		return []rbacv1.Subject{
			{Kind: "User", Name: "jane"},
			{Kind: "Group", Name: "devs"},
			{Kind: "ServiceAccount", Name: "builder", Namespace: "ci"},
			{Kind: "User", Name: "bot", APIGroup: "example.com"},
		}
	}
	want := []rbacv1.Subject{
		{Kind: "User", Name: "jane", APIGroup: rbacv1.GroupName},
		{Kind: "Group", Name: "devs", APIGroup: rbacv1.GroupName},
		{Kind: "ServiceAccount", Name: "builder", Namespace: "ci"},
		{Kind: "User", Name: "bot", APIGroup: "example.com"},
	}
	ref := rbacv1.RoleRef{Kind: "ClusterRole", Name: "view"}

	rb := newRoleBinding(ref, subjects())
	groupResource(t, "rolebindings").Default(rb)
	crb := newClusterRoleBinding(ref, subjects())
	groupResource(t, "clusterrolebindings").Default(crb)
	for name, got := range map[string]struct {
		ref      rbacv1.RoleRef
		subjects []rbacv1.Subject
	}{"rolebinding": {rb.RoleRef, rb.Subjects}, "clusterrolebinding": {crb.RoleRef, crb.Subjects}} {
		if diff := cmp.Diff(roleRef("ClusterRole", "view"), got.ref); diff != "" {
			t.Errorf("%s roleRef (-want +got):\n%s", name, diff)
		}
		if diff := cmp.Diff(want, got.subjects); diff != "" {
			t.Errorf("%s subjects (-want +got):\n%s", name, diff)
		}
	}
}

func TestBindingRoleRefImmutable(t *testing.T) {
	cases := []struct {
		resource string
		ref      rbacv1.RoleRef
		build    func(rbacv1.RoleRef, []rbacv1.Subject) runtime.Object
	}{
		{"rolebindings", roleRef("Role", "pod-reader"), func(ref rbacv1.RoleRef, s []rbacv1.Subject) runtime.Object { return newRoleBinding(ref, s) }},
		{"clusterrolebindings", roleRef("ClusterRole", "view"), func(ref rbacv1.RoleRef, s []rbacv1.Subject) runtime.Object { return newClusterRoleBinding(ref, s) }},
	}
	for _, c := range cases {
		r := groupResource(t, c.resource)
		subjects := []rbacv1.Subject{{Kind: "User", Name: "jane"}}
		withoutGroup, renamed := c.ref, c.ref
		withoutGroup.APIGroup = ""
		renamed.Name = "edit"
		checkErrors(t, c.resource+": new subjects", updateErrors(r, c.build(c.ref, subjects), c.build(c.ref, nil)), nil)
		checkErrors(t, c.resource+": defaulted api group", updateErrors(r, c.build(withoutGroup, subjects), c.build(c.ref, nil)), nil)
		checkErrors(t, c.resource+": new role", updateErrors(r, c.build(renamed, subjects), c.build(c.ref, nil)),
			[]string{"roleRef: Invalid value: cannot change roleRef"})
	}
}

func TestBindingTables(t *testing.T) {
	subjects := []rbacv1.Subject{
		{Kind: "User", Name: "jane"},
		{Kind: "ServiceAccount", Name: "builder", Namespace: "ci"},
		{Kind: "User", Name: "joe"},
		{Kind: "Group", Name: "devs"},
		{Kind: "ServiceAccount", Name: "local"},
		{Kind: "Robot", Name: "r2"},
	}
	rows := []struct {
		resource string
		obj      runtime.Object
		want     []any
	}{
		{"rolebindings", newRoleBinding(roleRef("Role", "pod-reader"), subjects),
			[]any{"b", "Role/pod-reader", "AGE", "jane, joe", "devs", "ci/builder, /local"}},
		{"clusterrolebindings", newClusterRoleBinding(roleRef("ClusterRole", "view"), nil),
			[]any{"b", "ClusterRole/view", "AGE", "", "", ""}},
	}
	for _, row := range rows {
		r := groupResource(t, row.resource)
		if diff := cmp.Diff([]string{"NAME", "ROLE", "AGE", "USERS*", "GROUPS*", "SERVICEACCOUNTS*"}, columnNames(r)); diff != "" {
			t.Errorf("%s columns (-want +got):\n%s", row.resource, diff)
		}
		checkRow(t, r, row.obj, row.want)
	}
}
