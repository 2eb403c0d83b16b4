package rbac

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestReconcileRole(t *testing.T) {
	defaults := DefaultClusterRoles()
	discovery := roleNamed(defaults, "system:discovery")

	// A stored role missing a default rule gets it; the user's extra rule
	// stays; a second pass changes nothing.
	extra := rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/custom"}}
	stored := discovery.DeepCopy()
	stored.Rules = []rbacv1.PolicyRule{extra}
	out, changed := ReconcileRole(stored, discovery)
	if !changed || len(Missing(out.Rules, discovery.Rules)) != 0 || len(Missing(out.Rules, []rbacv1.PolicyRule{extra})) != 0 {
		t.Fatalf("reconciled rules %v (changed %v)", out.Rules, changed)
	}
	if _, again := ReconcileRole(out, discovery); again {
		t.Error("a second reconcile changed the role again")
	}

	// An older, non-aggregated view becomes aggregated and labelled; its
	// rules are left for the aggregation controller.
	view := roleNamed(defaults, "view")
	old := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "view"}, Rules: []rbacv1.PolicyRule{extra}}
	out, changed = ReconcileRole(old, view)
	if !changed || out.AggregationRule == nil || len(out.AggregationRule.ClusterRoleSelectors) != 1 ||
		out.Labels[AggregateLabelPrefix+"edit"] != "true" || len(out.Rules) != 1 {
		t.Errorf("reconciled view %+v", out)
	}

	// autoupdate "false" keeps the server's hands off.
	optOut := stored.DeepCopy()
	optOut.Annotations = map[string]string{AutoUpdateAnnotation: "false"}
	if _, changed := ReconcileRole(optOut, discovery); changed {
		t.Error("a role with autoupdate false was changed")
	}
}

func TestReconcileBinding(t *testing.T) {
	want := DefaultClusterRoleBindings()[0] // cluster-admin for system:masters
	stored := want.DeepCopy()
	stored.Subjects = []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "root"}}
	out, changed := ReconcileBinding(stored, want)
	if !changed || len(out.Subjects) != 2 {
		t.Fatalf("subjects %v (changed %v)", out.Subjects, changed)
	}
	other := want.DeepCopy()
	other.RoleRef.Name = "view"
	other.Subjects = nil
	if _, changed := ReconcileBinding(other, want); changed {
		t.Error("a binding to another role was changed")
	}
}
