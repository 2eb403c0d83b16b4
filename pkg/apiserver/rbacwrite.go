package apiserver

import (
	"context"
	"errors"
	"fmt"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tugcluster/tug/pkg/apiserver/rbac"
)

// admitRBACWrite is RBAC's escalation check: a Role or ClusterRole may
// only hold rules its author holds (unless the author may "escalate"
// roles), and a binding may only grant a role whose rules its author holds
// (unless the author may "bind" it). Members of system:masters and the
// server's own writes skip it.
func (s *Server) admitRBACWrite(ctx context.Context, r *resource, obj runtime.Object) error {
	if r.Group != rbacv1.GroupName {
		return nil
	}
	user, ok := UserFrom(ctx)
	if !ok || slices.Contains(user.Groups, rbac.MastersGroup) {
		return nil
	}
	groups := callerInfo(user).Groups
	src := s.rbacSource(ctx)
	check := rbac.Attributes{User: user.Name, Groups: groups, ResourceRequest: true, APIGroup: rbacv1.GroupName}
	var wanted []rbacv1.PolicyRule
	switch o := obj.(type) {
	case *rbacv1.Role:
		check.Verb, check.Resource, check.Namespace, check.Name = "escalate", "roles", o.Namespace, o.Name
		wanted = o.Rules
	case *rbacv1.ClusterRole:
		check.Verb, check.Resource, check.Name = "escalate", "clusterroles", o.Name
		wanted = o.Rules
		if o.AggregationRule != nil && !rbac.Allowed(src, check) &&
			len(rbac.Missing(rbac.Rules(src, user.Name, groups, ""), rbac.FullAuthority)) > 0 {
			// Its selectors could gather any role's rules, cluster-admin's
			// included, as in Kubernetes.
			return apierrors.NewForbidden(r.GroupResource(), o.Name,
				errors.New("must have cluster-admin privileges to use the aggregationRule"))
		}
	case *rbacv1.RoleBinding:
		check.Verb, check.Namespace, check.Name = "bind", o.Namespace, o.RoleRef.Name
		return s.admitBinding(r, o.Name, check, src, o.RoleRef)
	case *rbacv1.ClusterRoleBinding:
		check.Verb, check.Name = "bind", o.RoleRef.Name
		return s.admitBinding(r, o.Name, check, src, o.RoleRef)
	default:
		return nil
	}
	if rbac.Allowed(src, check) {
		return nil
	}
	return escalation(r, check.Name, check, rbac.Missing(rbac.Rules(src, user.Name, groups, check.Namespace), wanted))
}

func (s *Server) admitBinding(r *resource, name string, check rbac.Attributes, src rbac.Source, ref rbacv1.RoleRef) error {
	check.Resource = "clusterroles"
	if ref.Kind == "Role" {
		check.Resource = "roles"
	}
	if rbac.Allowed(src, check) {
		return nil
	}
	wanted, found := rbac.RoleRefRules(src, check.Namespace, ref)
	if !found {
		return apierrors.NewForbidden(r.GroupResource(), name,
			fmt.Errorf("%s.%s %q not found", check.Resource, rbacv1.GroupName, ref.Name))
	}
	return escalation(r, name, check, rbac.Missing(rbac.Rules(src, check.User, check.Groups, check.Namespace), wanted))
}

// escalation is the 403 for a write that would grant missing rules (nil
// when nothing is missing).
func escalation(r *resource, name string, check rbac.Attributes, missing []rbacv1.PolicyRule) error {
	if len(missing) == 0 {
		return nil
	}
	return apierrors.NewForbidden(r.GroupResource(), name, errors.New(rbac.EscalationMessage(check.User, check.Groups, missing)))
}
