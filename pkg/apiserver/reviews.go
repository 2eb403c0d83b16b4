package apiserver

import (
	"net/http"
	"slices"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/pkg/apiserver/registry"
)

// lookupReview finds a served review resource (selfsubjectreviews...).
func (s *Server) lookupReview(group, version, name string) *registry.Review {
	return s.reviews[group+"/"+version+"/"+name]
}

// serveReview answers a POST of a review: the posted question comes back
// with its status filled in for the caller. Nothing is stored, so every
// other verb is refused as Kubernetes refuses it.
func (s *Server) serveReview(w http.ResponseWriter, r *http.Request, info requestInfo, rv *registry.Review) {
	gr := rv.GroupResource()
	if info.Name != "" || info.Subresource != "" || (info.Namespace != "") != rv.Namespaced {
		s.serveNotFound(w, r)
		return
	}
	if err := s.answerReview(w, r, info, rv); err != nil {
		s.writeError(w, r, err, gr, "")
	}
}

func (s *Server) answerReview(w http.ResponseWriter, r *http.Request, info requestInfo, rv *registry.Review) error {
	if info.Verb != "create" {
		return methodNotAllowed(rv.GroupResource())
	}
	obj, out, _, err := s.readPosted(&request{Request: r, w: w, info: info, s: s}, rv.GroupVersionKind(), rv.New())
	if err != nil {
		return err
	}
	if rv.Namespaced {
		m, err := meta.Accessor(obj)
		if err != nil {
			return err
		}
		if m.GetNamespace() != "" && m.GetNamespace() != info.Namespace {
			return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
		}
		m.SetNamespace(info.Namespace)
	}
	if rv.Validate != nil {
		if errs := rv.Validate(obj); len(errs) > 0 {
			name := ""
			if m, err := meta.Accessor(obj); err == nil {
				name = m.GetName()
			}
			return apierrors.NewInvalid(rv.GroupVersionKind().GroupKind(), name, errs)
		}
	}
	user, _ := UserFrom(r.Context())
	rv.Answer(obj, callerInfo(user), s.reviewAuthorizer(r.Context()))
	if m, err := meta.Accessor(obj); err == nil {
		m.SetCreationTimestamp(metav1.Now())
	}
	s.writeObject(w, http.StatusCreated, obj, out)
	return nil
}

// callerInfo is the caller as Kubernetes reports it: every authenticated
// user is also in system:authenticated.
func callerInfo(u User) authenticationv1.UserInfo {
	groups := slices.Clone(u.Groups)
	if !slices.Contains(groups, registry.AllAuthenticated) {
		groups = append(groups, registry.AllAuthenticated)
	}
	return authenticationv1.UserInfo{Username: u.Name, UID: u.UID, Groups: groups}
}
