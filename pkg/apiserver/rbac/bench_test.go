package rbac

import (
	"fmt"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BenchmarkAllowed decides a service account's request against the default
// policy plus 200 cluster-wide and 100 namespace bindings, the binding
// that allows it coming last.
func BenchmarkAllowed(b *testing.B) {
	src := policy()
	for i := range 200 {
		src.crbs = append(src.crbs, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("crb-%d", i)},
			RoleRef:  rbacv1.RoleRef{Kind: "ClusterRole", Name: "view"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: fmt.Sprintf("ns-%d", i), Name: "app"}}})
	}
	for i := range 100 {
		src.rbs = append([]*rbacv1.RoleBinding{{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: fmt.Sprintf("rb-%d", i)},
			RoleRef:  rbacv1.RoleRef{Kind: "ClusterRole", Name: "edit"},
			Subjects: []rbacv1.Subject{{Kind: "User", Name: fmt.Sprintf("user-%d", i)}}}}, src.rbs...)
	}
	a := res("system:serviceaccount:team:builder", []string{"system:serviceaccounts", "system:serviceaccounts:team"},
		"list", "", "pods", "", "team", "")
	if !Allowed(src, a) {
		b.Fatal("request not allowed")
	}
	b.ReportAllocs()
	for b.Loop() {
		Allowed(src, a)
	}
}
