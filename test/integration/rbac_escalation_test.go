package integration

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
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

	// With "escalate" on roles the same role is allowed.
	if _, err := cluster.client.RbacV1().Roles(ns).Create(ctx(t), &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "may-escalate"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"escalate"}, APIGroups: []string{rbacv1.GroupName}, Resources: []string{"roles"}}}},
		metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.client.RbacV1().RoleBindings(ns).Create(ctx(t), &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "boss-escalates"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "may-escalate"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "boss", Namespace: ns}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		_, err := boss.Roles(ns).Create(ctx(t), readNodes, metav1.CreateOptions{})
		return err == nil, fmt.Sprintf("role beyond the admin's rights with escalate: %v", err)
	})

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

// TestImpersonation: kubectl --as works for whoever may impersonate, and
// the request is then authorized as the impersonated user.
func TestImpersonation(t *testing.T) {
	ns := newNamespace(t)
	core := cluster.client.CoreV1()
	for _, name := range []string{"viewer", "helper"} {
		if _, err := core.ServiceAccounts(ns).Create(ctx(t), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	bind := func(name, role string, sa string) {
		t.Helper()
		if _, err := cluster.client.RbacV1().RoleBindings(ns).Create(ctx(t), &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa, Namespace: ns}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	bind("viewer-view", "view", "viewer")
	viewer := "system:serviceaccount:" + ns + ":viewer"

	// The admin (system:masters) acts as the viewer: reads pass, secrets do not.
	as := func(token string, user string, groups ...string) *rest.Config {
		return &rest.Config{Host: cluster.http.URL, BearerToken: token,
			Impersonate: rest.ImpersonationConfig{UserName: user, Groups: groups}}
	}
	asViewer := kubernetes.NewForConfigOrDie(as(adminToken, viewer))
	eventually(t, 5*time.Second, func() (bool, string) {
		_, err := asViewer.CoreV1().Pods(ns).List(ctx(t), metav1.ListOptions{})
		return err == nil, fmt.Sprintf("list pods as the viewer: %v", err)
	})
	_, err := asViewer.CoreV1().Secrets(ns).List(ctx(t), metav1.ListOptions{})
	want := fmt.Sprintf(`secrets is forbidden: User %q cannot list resource "secrets" in API group "" in the namespace %q`, viewer, ns)
	if !apierrors.IsForbidden(err) || err.Error() != want {
		t.Errorf("secrets as the viewer: %v\nwant %s", err, want)
	}
	who, err := asViewer.AuthenticationV1().SelfSubjectReviews().Create(ctx(t), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || who.Status.UserInfo.Username != viewer || !slices.Contains(who.Status.UserInfo.Groups, "system:serviceaccounts:"+ns) {
		t.Errorf("whoami as the viewer: %v %+v", err, who)
	}

	// A service account may impersonate only with the impersonate verb.
	tr, err := core.ServiceAccounts(ns).CreateToken(ctx(t), "helper", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	helperAsViewer := kubernetes.NewForConfigOrDie(as(tr.Status.Token, viewer))
	_, err = helperAsViewer.CoreV1().Pods(ns).List(ctx(t), metav1.ListOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `cannot impersonate resource "serviceaccounts" in API group "" in the namespace "`+ns+`"`) {
		t.Errorf("impersonation without the verb: %v", err)
	}
	if _, err := cluster.client.RbacV1().Roles(ns).Create(ctx(t), &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "may-impersonate"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"impersonate"}, APIGroups: []string{""}, Resources: []string{"serviceaccounts"}, ResourceNames: []string{"viewer"}}}},
		metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.client.RbacV1().RoleBindings(ns).Create(ctx(t), &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "helper-impersonates"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "may-impersonate"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "helper", Namespace: ns}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		_, err := helperAsViewer.CoreV1().Pods(ns).List(ctx(t), metav1.ListOptions{})
		return err == nil, fmt.Sprintf("impersonation with the verb: %v", err)
	})
	// Impersonating a group as well needs the verb on groups too.
	_, err = kubernetes.NewForConfigOrDie(as(tr.Status.Token, viewer, "system:masters")).CoreV1().Pods(ns).List(ctx(t), metav1.ListOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `cannot impersonate resource "groups"`) {
		t.Errorf("impersonating system:masters: %v", err)
	}
	// Groups without a user are refused.
	resp, _ := doRequest(t, http.MethodGet, "/api", "", nil, map[string]string{
		"Authorization": "Bearer " + adminToken, "Impersonate-Group": "devs"})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("groups without a user: status %d, want 400", resp.StatusCode)
	}
	// A uid needs the verb on uids too; user extras are not supported.
	resp, _ = doRequest(t, http.MethodGet, "/api", "", nil, map[string]string{
		"Authorization": "Bearer " + tr.Status.Token, "Impersonate-User": viewer, "Impersonate-Uid": "1234"})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("impersonating a uid without the verb: status %d, want 403", resp.StatusCode)
	}
	resp, _ = doRequest(t, http.MethodGet, "/api", "", nil, map[string]string{
		"Authorization": "Bearer " + adminToken, "Impersonate-User": viewer, "Impersonate-Extra-Scopes": "x"})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("impersonating user extras: status %d, want 400", resp.StatusCode)
	}
}

// TestClusterRoleAggregation: a ClusterRole labelled aggregate-to-view
// extends view, and through it edit and admin; removing it takes its
// rules back out.
func TestClusterRoleAggregation(t *testing.T) {
	roles := cluster.client.RbacV1().ClusterRoles()
	widgets := rbacv1.PolicyRule{Verbs: []string{"get", "list"}, APIGroups: []string{"example.com"}, Resources: []string{"widgets"}}
	if _, err := roles.Create(ctx(t), &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "widgets-reader",
		Labels: map[string]string{"rbac.authorization.k8s.io/aggregate-to-view": "true"}},
		Rules: []rbacv1.PolicyRule{widgets}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	holds := func(name string) (bool, string) {
		r, err := roles.Get(ctx(t), name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		for _, rule := range r.Rules {
			if slices.Equal(rule.APIGroups, widgets.APIGroups) && slices.Equal(rule.Resources, widgets.Resources) {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%s has %d rules, none for widgets", name, len(r.Rules))
	}
	for _, name := range []string{"view", "edit", "admin"} {
		eventually(t, 10*time.Second, func() (bool, string) { return holds(name) })
	}
	if err := roles.Delete(ctx(t), "widgets-reader", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"view", "edit", "admin"} {
		eventually(t, 10*time.Second, func() (bool, string) {
			ok, _ := holds(name)
			return !ok, name + " still holds the widgets rule"
		})
	}
}

// TestLocalSubjectAccessReview asks, within a namespace, what a service
// account may do there.
func TestLocalSubjectAccessReview(t *testing.T) {
	ns := newNamespace(t)
	if _, err := cluster.client.RbacV1().RoleBindings(ns).Create(ctx(t), &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "bot-view"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "bot", Namespace: ns}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	reviews := cluster.client.AuthorizationV1().LocalSubjectAccessReviews(ns)
	ask := func(verb, resource, namespace string) (*authorizationv1.LocalSubjectAccessReview, error) {
		return reviews.Create(ctx(t), &authorizationv1.LocalSubjectAccessReview{ObjectMeta: metav1.ObjectMeta{Namespace: ns},
			Spec: authorizationv1.SubjectAccessReviewSpec{User: "system:serviceaccount:" + ns + ":bot",
				ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Resource: resource, Namespace: namespace}}},
			metav1.CreateOptions{})
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		r, err := ask("list", "pods", "")
		return err == nil && r.Status.Allowed, fmt.Sprintf("list pods: %v %+v", err, r)
	})
	if r, err := ask("delete", "pods", ns); err != nil || r.Status.Allowed {
		t.Errorf("delete pods: %v %+v", err, r)
	}
	if _, err := ask("list", "pods", "elsewhere"); !apierrors.IsInvalid(err) ||
		!strings.Contains(err.Error(), "spec.resourceAttributes.namespace: Invalid value: \"elsewhere\": must match metadata.namespace") {
		t.Errorf("another namespace: %v", err)
	}
}

// TestAggregationRuleNeedsFullAuthority: a caller that may write
// ClusterRoles may not give one an aggregationRule (which could gather
// cluster-admin's rules) unless it holds every permission.
func TestAggregationRuleNeedsFullAuthority(t *testing.T) {
	ns := newNamespace(t)
	if _, err := cluster.client.CoreV1().ServiceAccounts(ns).Create(ctx(t), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "roles"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	writer := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: ns + "-role-writer"}, Rules: []rbacv1.PolicyRule{
		{Verbs: []string{"create", "get"}, APIGroups: []string{rbacv1.GroupName}, Resources: []string{"clusterroles"}}}}
	if _, err := cluster.client.RbacV1().ClusterRoles().Create(ctx(t), writer, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.client.RbacV1().ClusterRoleBindings().Create(ctx(t), &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: ns + "-role-writer"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: writer.Name},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "roles", Namespace: ns}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tr, err := cluster.client.CoreV1().ServiceAccounts(ns).CreateToken(ctx(t), "roles", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	roles := clientWithToken(t, tr.Status.Token).RbacV1().ClusterRoles()
	eventually(t, 5*time.Second, func() (bool, string) {
		_, err := roles.Create(ctx(t), &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: ns + "-plain"}, Rules: writer.Rules}, metav1.CreateOptions{})
		return err == nil, fmt.Sprintf("role within the writer's rights: %v", err)
	})
	_, err = roles.Create(ctx(t), &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: ns + "-gatherer"},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
			{MatchLabels: map[string]string{"kubernetes.io/bootstrapping": "rbac-defaults"}}}}}, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "must have cluster-admin privileges to use the aggregationRule") {
		t.Errorf("aggregated role by a role writer: %v", err)
	}
	t.Cleanup(func() {
		_ = cluster.client.RbacV1().ClusterRoles().Delete(context.Background(), writer.Name, metav1.DeleteOptions{})
		_ = cluster.client.RbacV1().ClusterRoles().Delete(context.Background(), ns+"-plain", metav1.DeleteOptions{})
		_ = cluster.client.RbacV1().ClusterRoleBindings().Delete(context.Background(), writer.Name, metav1.DeleteOptions{})
	})
}
