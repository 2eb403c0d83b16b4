package apiserver

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugcluster/tug/pkg/apiserver/rbac"
	"github.com/tugcluster/tug/pkg/storage"
)

// authorize lets members of system:masters do everything and decides
// every other caller's request with RBAC; a refused request is 403 with
// Kubernetes' sentence. Anonymous callers only reach the health probes.
func (s *Server) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, ok := UserFrom(r.Context())
		if !ok || slices.Contains(user.Groups, rbac.MastersGroup) {
			next.ServeHTTP(w, r)
			return
		}
		a := requestAttributes(r)
		a.User, a.Groups = user.Name, callerInfo(user).Groups
		if s.allowed(r.Context(), a) {
			next.ServeHTTP(w, r)
			return
		}
		writeRaw(w, http.StatusForbidden, forbidden(a))
	})
}

// allowed decides a request whose attributes name the caller: members of
// system:masters may do everything, everyone else what RBAC grants.
func (s *Server) allowed(ctx context.Context, a rbac.Attributes) bool {
	return slices.Contains(a.Groups, rbac.MastersGroup) || rbac.Allowed(s.rbacSource(ctx), a)
}

func forbidden(a rbac.Attributes) *apierrors.StatusError {
	gr := schema.GroupResource{Group: a.APIGroup, Resource: a.Resource}
	if a.Subresource != "" {
		gr.Resource += "/" + a.Subresource
	}
	return apierrors.NewForbidden(gr, a.Name, errors.New(rbac.Reason(a)))
}

// requestAttributes describes a request as RBAC sees it: API paths naming
// a resource are resource requests, everything else (discovery, /version,
// /openapi...) is a path with the lower-cased HTTP method as verb.
func requestAttributes(r *http.Request) rbac.Attributes {
	info, ok := parseRequest(r)
	if !ok || info.Resource == "" || info.Version == "" {
		verb := strings.ToLower(r.Method)
		if r.Method == http.MethodHead {
			verb = "get"
		}
		return rbac.Attributes{Verb: verb, Path: r.URL.Path}
	}
	a := rbac.Attributes{ResourceRequest: true, Verb: info.Verb, APIGroup: info.Group, Resource: info.Resource,
		Subresource: info.Subresource, Name: info.Name, Namespace: info.Namespace}
	if info.Group == "" && info.Resource == "namespaces" && info.Name != "" {
		a.Namespace = info.Name // a namespace is in itself
	}
	if info.Group == "" && info.Resource == "pods" {
		switch info.Subresource {
		case "exec", "attach", "portforward":
			// Streams opened with GET (WebSockets) need create too.
			a.Verb = "create"
		}
	}
	return a
}

// rbacSource reads roles and bindings from the watch caches.
func (s *Server) rbacSource(ctx context.Context) *rbacSource {
	return &rbacSource{s: s, ctx: ctx}
}

const rbacGroup = rbacv1.GroupName

type rbacSource struct {
	s   *Server
	ctx context.Context
}

func (src *rbacSource) ClusterRoleBindings() []*rbacv1.ClusterRoleBinding {
	list := &rbacv1.ClusterRoleBindingList{}
	src.s.cachedList(src.ctx, rbacGroup, "clusterrolebindings", "", list)
	return pointers(list.Items)
}

func (src *rbacSource) RoleBindings(namespace string) []*rbacv1.RoleBinding {
	list := &rbacv1.RoleBindingList{}
	src.s.cachedList(src.ctx, rbacGroup, "rolebindings", namespace, list)
	return pointers(list.Items)
}

func (src *rbacSource) ClusterRole(name string) *rbacv1.ClusterRole {
	role := &rbacv1.ClusterRole{}
	if !src.get("clusterroles", "", name, role) {
		return nil
	}
	return role
}

func (src *rbacSource) Role(namespace, name string) *rbacv1.Role {
	role := &rbacv1.Role{}
	if !src.get("roles", namespace, name, role) {
		return nil
	}
	return role
}

// get reads a role from the watch cache (not confirmed by etcd, unlike
// cachedGet): a missing role grants nothing.
func (src *rbacSource) get(resource, namespace, name string, into runtime.Object) bool {
	r := src.s.lookup(rbacGroup, "v1", resource)
	return r.store.Get(src.ctx, r.key(namespace, name), storage.GetOptions{ResourceVersion: "0"}, into) == nil
}

func pointers[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}

// cachedList lists a resource (one namespace, or all) from its watch
// cache; a failure lists nothing, which only ever denies.
func (s *Server) cachedList(ctx context.Context, group, resource, namespace string, into runtime.Object) {
	r := s.lookup(group, "v1", resource)
	_ = r.store.GetList(ctx, r.listKey(namespace), storage.ListOptions{ResourceVersion: "0", Recursive: true}, into)
}

// reviewAuthorizer answers token and access reviews with the same rules as
// requests.
func (s *Server) reviewAuthorizer(ctx context.Context) *reviewAuthorizer {
	return &reviewAuthorizer{s: s, ctx: ctx}
}

type reviewAuthorizer struct {
	s   *Server
	ctx context.Context
}

func (az *reviewAuthorizer) Authenticate(token string, audiences []string) (authenticationv1.UserInfo, []string, bool) {
	if len(audiences) == 0 {
		audiences = az.s.audiences
	}
	u, ok := az.s.tokenUser(az.ctx, token, audiences)
	if !ok {
		return authenticationv1.UserInfo{}, nil, false
	}
	return callerInfo(u), audiences, true
}

func (az *reviewAuthorizer) Allowed(user string, groups []string, res *authorizationv1.ResourceAttributes,
	nonRes *authorizationv1.NonResourceAttributes) bool {
	var a rbac.Attributes
	if res != nil {
		a = rbac.Attributes{ResourceRequest: true, Verb: res.Verb, APIGroup: res.Group, Resource: res.Resource,
			Subresource: res.Subresource, Name: res.Name, Namespace: res.Namespace}
	} else if nonRes != nil {
		a = rbac.Attributes{Verb: nonRes.Verb, Path: nonRes.Path}
	}
	a.User, a.Groups = user, groups
	return az.s.allowed(az.ctx, a)
}

func (az *reviewAuthorizer) Rules(user string, groups []string, namespace string) authorizationv1.SubjectRulesReviewStatus {
	var st authorizationv1.SubjectRulesReviewStatus
	rules := rbac.Rules(az.s.rbacSource(az.ctx), user, groups, namespace)
	if slices.Contains(groups, rbac.MastersGroup) {
		rules = append(rules, rbacv1.PolicyRule{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}},
			rbacv1.PolicyRule{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}})
	}
	for _, r := range rules {
		if len(r.NonResourceURLs) > 0 {
			st.NonResourceRules = append(st.NonResourceRules, authorizationv1.NonResourceRule{Verbs: r.Verbs, NonResourceURLs: r.NonResourceURLs})
			continue
		}
		st.ResourceRules = append(st.ResourceRules, authorizationv1.ResourceRule{Verbs: r.Verbs, APIGroups: r.APIGroups,
			Resources: r.Resources, ResourceNames: r.ResourceNames})
	}
	return st
}
