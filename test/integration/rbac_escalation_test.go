package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestRBACEscalation: a namespace admin may hand out what it holds, and
// nothing more, unless it may escalate or bind.
func TestRBACEscalation(t *testing.T) {
	ns := newNamespace(t)
	if _, err := cluster.client.CoreV1().ServiceAccounts(ns).Create(ctx(t), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "boss"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	bindAdmin := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "boss-admin"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "admin"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "boss", Namespace: ns}}}
	if _, err := cluster.client.RbacV1().RoleBindings(ns).Create(ctx(t), bindAdmin, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tr, err := cluster.client.CoreV1().ServiceAccounts(ns).CreateToken(ctx(t), "boss", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	boss := clientWithToken(t, tr.Status.Token).RbacV1()
	user := "system:serviceaccount:" + ns + ":boss"

	readPods := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "read-pods"}, Rules: []rbacv1.PolicyRule{
		{Verbs: []string{"get", "list", "watch"}, APIGroups: []string{""}, Resources: []string{"pods"}}}}
	eventually(t, 5*time.Second, func() (bool, string) {
		_, err := boss.Roles(ns).Create(ctx(t), readPods, metav1.CreateOptions{})
		return err == nil, fmt.Sprintf("role within the admin's rights: %v", err)
	})
	readNodes := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "read-nodes"}, Rules: []rbacv1.PolicyRule{
		{Verbs: []string{"list"}, APIGroups: []string{""}, Resources: []string{"nodes"}}}}
	_, err = boss.Roles(ns).Create(ctx(t), readNodes, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), fmt.Sprintf(`roles.rbac.authorization.k8s.io "read-nodes" is forbidden: user %q`, user)) ||
		!strings.Contains(err.Error(), `is attempting to grant RBAC permissions not currently held:`+"\n"+`{APIGroups:[""], Resources:["nodes"], Verbs:["list"]}`) {
		t.Errorf("role beyond the admin's rights: %v", err)
	}
	if _, err := cluster.client.RbacV1().Roles(ns).Get(ctx(t), "read-nodes", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("refused role was stored: %v", err)
	}

	bind := func(name, kind, role string) error {
		_, err := boss.RoleBindings(ns).Create(ctx(t), &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: role},
			Subjects: []rbacv1.Subject{{Kind: "User", Name: "carol"}}}, metav1.CreateOptions{})
		return err
	}
	if err := bind("carol-edit", "ClusterRole", "edit"); err != nil {
		t.Errorf("binding edit (within admin): %v", err)
	}
	if err := bind("carol-reads", "Role", "read-pods"); err != nil {
		t.Errorf("binding the admin's own role: %v", err)
	}
	if err := bind("carol-root", "ClusterRole", "cluster-admin"); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "not currently held") {
		t.Errorf("binding cluster-admin: %v", err)
	}
	if err := bind("carol-ghost", "ClusterRole", "no-such-role"); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `clusterroles.rbac.authorization.k8s.io "no-such-role" not found`) {
		t.Errorf("binding a missing role: %v", err)
	}

	// With "bind" on cluster-admin the binding is allowed: that is what
	// the verb is for.
	grant := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "may-bind-root"}, Rules: []rbacv1.PolicyRule{
		{Verbs: []string{"bind"}, APIGroups: []string{rbacv1.GroupName}, Resources: []string{"clusterroles"}, ResourceNames: []string{"cluster-admin"}}}}
	if _, err := cluster.client.RbacV1().Roles(ns).Create(ctx(t), grant, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.client.RbacV1().RoleBindings(ns).Create(ctx(t), &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "boss-may-bind"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "may-bind-root"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "boss", Namespace: ns}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		err := bind("carol-root", "ClusterRole", "cluster-admin")
		return err == nil, fmt.Sprintf("binding cluster-admin with bind: %v", err)
	})
}
