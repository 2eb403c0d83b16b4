package rbac

import (
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/tugcluster/tug/pkg/apiserver/satoken"
)

// Attributes describe one request.
type Attributes struct {
	User   string
	Groups []string
	Verb   string
	// A resource request names APIGroup, Resource and optionally
	// Subresource, Name and Namespace; any other request names Path.
	ResourceRequest bool
	APIGroup        string
	Resource        string
	Subresource     string
	Name            string
	Namespace       string
	Path            string
}

// Source reads the RBAC objects; a missing object is nil.
type Source interface {
	ClusterRoleBindings() []*rbacv1.ClusterRoleBinding
	RoleBindings(namespace string) []*rbacv1.RoleBinding
	ClusterRole(name string) *rbacv1.ClusterRole
	Role(namespace, name string) *rbacv1.Role
}

// Allowed reports whether a rule bound to the caller covers the request.
func Allowed(src Source, a Attributes) bool {
	allowed := false
	visitRules(src, a.User, a.Groups, a.Namespace, func(r *rbacv1.PolicyRule) bool {
		allowed = RuleAllows(r, a)
		return !allowed
	})
	return allowed
}

// Rules returns every rule that applies to the caller in namespace (the
// cluster-wide ones included), for SelfSubjectRulesReview.
func Rules(src Source, user string, groups []string, namespace string) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	visitRules(src, user, groups, namespace, func(r *rbacv1.PolicyRule) bool {
		out = append(out, *r)
		return true
	})
	return out
}

// Reason is the sentence Kubernetes gives when a request is refused.
func Reason(a Attributes) string {
	if !a.ResourceRequest {
		return fmt.Sprintf("User %q cannot %s path %q", a.User, a.Verb, a.Path)
	}
	res := a.Resource
	if a.Subresource != "" {
		res += "/" + a.Subresource
	}
	scope := "at the cluster scope"
	if a.Namespace != "" {
		scope = fmt.Sprintf("in the namespace %q", a.Namespace)
	}
	return fmt.Sprintf("User %q cannot %s resource %q in API group %q %s", a.User, a.Verb, res, a.APIGroup, scope)
}

// visitRules calls fn for each rule bound to the caller until fn returns
// false: cluster-wide bindings first, then the namespace's.
func visitRules(src Source, user string, groups []string, namespace string, fn func(*rbacv1.PolicyRule) bool) {
	for _, b := range src.ClusterRoleBindings() {
		if b.RoleRef.Kind != "ClusterRole" || !bindsCaller(b.Subjects, "", user, groups) {
			continue
		}
		if !visitAll(clusterRoleRules(src, b.RoleRef.Name), fn) {
			return
		}
	}
	if namespace == "" {
		return
	}
	for _, b := range src.RoleBindings(namespace) {
		if !bindsCaller(b.Subjects, namespace, user, groups) {
			continue
		}
		var rules []rbacv1.PolicyRule
		switch b.RoleRef.Kind {
		case "ClusterRole":
			rules = clusterRoleRules(src, b.RoleRef.Name)
		case "Role":
			if r := src.Role(namespace, b.RoleRef.Name); r != nil {
				rules = r.Rules
			}
		}
		if !visitAll(rules, fn) {
			return
		}
	}
}

func visitAll(rules []rbacv1.PolicyRule, fn func(*rbacv1.PolicyRule) bool) bool {
	for i := range rules {
		if !fn(&rules[i]) {
			return false
		}
	}
	return true
}

// clusterRoleRules are a ClusterRole's rules (for an aggregated one, those
// the aggregation controller wrote; see Aggregate).
func clusterRoleRules(src Source, name string) []rbacv1.PolicyRule {
	if cr := src.ClusterRole(name); cr != nil {
		return cr.Rules
	}
	return nil
}

// bindsCaller reports whether a subject is the caller. bindingNamespace is
// the namespace of a RoleBinding, the default for its ServiceAccount
// subjects.
func bindsCaller(subjects []rbacv1.Subject, bindingNamespace, user string, groups []string) bool {
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.UserKind:
			if s.Name == user {
				return true
			}
		case rbacv1.GroupKind:
			if slices.Contains(groups, s.Name) {
				return true
			}
		case rbacv1.ServiceAccountKind:
			ns := s.Namespace
			if ns == "" {
				ns = bindingNamespace
			}
			if ns != "" && user == satoken.Subject(ns, s.Name) {
				return true
			}
		}
	}
	return false
}

// RuleAllows reports whether one rule covers the request.
func RuleAllows(r *rbacv1.PolicyRule, a Attributes) bool {
	if !hasOrStar(r.Verbs, a.Verb) {
		return false
	}
	if !a.ResourceRequest {
		return nonResourceMatches(r.NonResourceURLs, a.Path)
	}
	return hasOrStar(r.APIGroups, a.APIGroup) &&
		resourceMatches(r.Resources, a.Resource, a.Subresource) &&
		(len(r.ResourceNames) == 0 || slices.Contains(r.ResourceNames, a.Name) && a.Name != "")
}

func hasOrStar(list []string, v string) bool {
	for _, x := range list {
		if x == rbacv1.ResourceAll || x == v {
			return true
		}
	}
	return false
}

func resourceMatches(rules []string, resource, sub string) bool {
	combined := resource
	if sub != "" {
		combined += "/" + sub
	}
	for _, r := range rules {
		switch {
		case r == rbacv1.ResourceAll, r == combined:
			return true
		case sub != "" && r == "*/"+sub:
			return true
		}
	}
	return false
}

func nonResourceMatches(urls []string, path string) bool {
	for _, u := range urls {
		switch {
		case u == rbacv1.NonResourceAll, u == path:
			return true
		case strings.HasSuffix(u, "*") && strings.HasPrefix(path, strings.TrimSuffix(u, "*")):
			return true
		}
	}
	return false
}

// RoleRefRules are the rules a binding's roleRef grants in namespace (""
// for a ClusterRoleBinding); ok is false when the role does not exist.
func RoleRefRules(src Source, namespace string, ref rbacv1.RoleRef) (rules []rbacv1.PolicyRule, ok bool) {
	switch ref.Kind {
	case "ClusterRole":
		if cr := src.ClusterRole(ref.Name); cr != nil {
			return cr.Rules, true
		}
		return nil, false
	case "Role":
		r := src.Role(namespace, ref.Name)
		if r == nil {
			return nil, false
		}
		return r.Rules, true
	}
	return nil, false
}
