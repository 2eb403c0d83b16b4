package apiserver

import (
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// serveAPI routes everything under /api and /apis.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	info, ok := parseRequest(r)
	if !ok {
		s.serveNotFound(w, r)
		return
	}
	if s.serveDiscovery(w, r, info) {
		return
	}
	if info.Group == metricsGroup {
		s.serveMetrics(w, r, info)
		return
	}
	res := s.lookup(info.Group, info.Version, info.Resource)
	if res == nil {
		if rv := s.lookupReview(info.Group, info.Version, info.Resource); rv != nil {
			s.serveReview(w, r, info, rv)
			return
		}
		s.serveNotFound(w, r)
		return
	}
	gr := res.GroupResource()
	if !s.isReady() {
		s.writeError(w, r, apierrors.NewServiceUnavailable("the server is starting; try again shortly"), gr, info.Name)
		return
	}
	if res.Namespaced && info.Namespace == "" && info.Name != "" {
		// A namespaced object addressed without a namespace.
		s.serveNotFound(w, r)
		return
	}
	if !res.Namespaced && info.Namespace != "" {
		s.serveNotFound(w, r)
		return
	}
	req := &request{Request: r, w: w, info: info, res: res, s: s}
	var err error
	switch info.Subresource {
	case "":
		err = s.serveResource(req)
	default:
		err = s.serveSubresource(req)
	}
	if err != nil {
		s.writeError(w, r, err, gr, info.Name)
	}
}

func (s *Server) serveResource(req *request) error {
	switch req.info.Verb {
	case "get":
		return s.get(req)
	case "list":
		return s.list(req)
	case "watch":
		return s.watch(req)
	case "create":
		if req.info.Name != "" {
			return errMethodNotAllowed(req)
		}
		return s.create(req)
	case "update":
		return s.update(req, updateMain)
	case "patch":
		return s.patch(req, updateMain)
	case "delete":
		return s.delete(req)
	case "deletecollection":
		return s.deleteCollection(req)
	}
	return errMethodNotAllowed(req)
}

func errMethodNotAllowed(req *request) error {
	return methodNotAllowed(req.res.GroupResource())
}

// methodNotAllowed is the 405 for a verb a resource does not serve, with
// the message kubectl shows for it against Kubernetes.
func methodNotAllowed(gr schema.GroupResource) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusMethodNotAllowed, Reason: metav1.StatusReasonMethodNotAllowed,
		Message: "the server does not allow this method on the requested resource",
		Details: &metav1.StatusDetails{Group: gr.Group, Kind: gr.Resource},
	}}
}

func errNotFoundPath() error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusNotFound, Reason: metav1.StatusReasonNotFound,
		Message: "the server could not find the requested resource",
		Details: &metav1.StatusDetails{},
	}}
}

// request carries one API call through the handlers.
type request struct {
	*http.Request
	w    http.ResponseWriter
	info requestInfo
	res  *resource
	s    *Server
}
