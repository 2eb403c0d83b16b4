package apiserver

import (
	"context"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/tugcluster/tug/pkg/apiserver/rbac"
	"github.com/tugcluster/tug/pkg/apiserver/satoken"
)

// Impersonation headers, as kubectl --as, --as-group and --as-uid send them.
const (
	impersonateUser  = "Impersonate-User"
	impersonateGroup = "Impersonate-Group"
	impersonateUID   = "Impersonate-Uid"
	impersonateExtra = "Impersonate-Extra-"
)

// impersonate lets a caller act as another user, as Kubernetes does: the
// caller needs the "impersonate" verb on each users (or serviceaccounts),
// groups and uids it names, and the request then runs, and is authorized,
// as the impersonated user. Groups or a UID without a user are 400, and so
// are user extras, which tug's users do not have.
func (s *Server) impersonate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.Header.Get(impersonateUser)
		groups := r.Header.Values(impersonateGroup)
		uid := r.Header.Get(impersonateUID)
		if name == "" && len(groups) == 0 && uid == "" && !hasExtra(r.Header) {
			next.ServeHTTP(w, r)
			return
		}
		caller, ok := UserFrom(r.Context())
		if !ok {
			writeRaw(w, http.StatusUnauthorized, apierrors.NewUnauthorized("Unauthorized"))
			return
		}
		if hasExtra(r.Header) {
			writeRaw(w, http.StatusBadRequest, apierrors.NewBadRequest("impersonating user extras (Impersonate-Extra-*) is not supported"))
			return
		}
		if name == "" {
			writeRaw(w, http.StatusBadRequest, apierrors.NewBadRequest("requested impersonation of groups or a uid without impersonating a user"))
			return
		}
		as, err := s.impersonated(r.Context(), caller, name, groups, uid)
		if err != nil {
			writeRaw(w, http.StatusForbidden, err)
			return
		}
		for k := range r.Header {
			if strings.HasPrefix(k, "Impersonate-") {
				r.Header.Del(k)
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, as)))
	})
}

func hasExtra(h http.Header) bool {
	for k := range h {
		if strings.HasPrefix(k, impersonateExtra) {
			return true
		}
	}
	return false
}

// impersonated checks the caller's right to each impersonated attribute
// and returns the user the request runs as.
func (s *Server) impersonated(ctx context.Context, caller User, name string, groups []string, uid string) (User, *apierrors.StatusError) {
	allowed := func(resource, namespace, target string) *apierrors.StatusError {
		a := rbac.Attributes{User: caller.Name, Groups: callerInfo(caller).Groups, Verb: "impersonate",
			ResourceRequest: true, Resource: resource, Namespace: namespace, Name: target}
		if s.allowed(ctx, a) {
			return nil
		}
		return forbidden(a)
	}
	as := User{Name: name, UID: uid, Groups: groups}
	if ns, sa, ok := satoken.SplitSubject(name); ok {
		if err := allowed("serviceaccounts", ns, sa); err != nil {
			return User{}, err
		}
		if len(groups) == 0 {
			as.Groups = satoken.Groups(ns)
		}
	} else if err := allowed("users", "", name); err != nil {
		return User{}, err
	}
	for _, g := range groups {
		if err := allowed("groups", "", g); err != nil {
			return User{}, err
		}
	}
	if uid != "" {
		if err := allowed("uids", "", uid); err != nil {
			return User{}, err
		}
	}
	return as, nil
}
