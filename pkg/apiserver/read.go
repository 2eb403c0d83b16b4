package apiserver

import (
	"fmt"
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternal "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metainternalscheme "k8s.io/apimachinery/pkg/apis/meta/internalversion/scheme"
	metainternalvalidation "k8s.io/apimachinery/pkg/apis/meta/internalversion/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tugcluster/tug/pkg/storage"
)

func (s *Server) get(req *request) error {
	out, err := negotiate(req.Request)
	if err != nil {
		return err
	}
	rv := req.URL.Query().Get("resourceVersion")
	if err := checkResourceVersion(rv); err != nil {
		return err
	}
	obj := req.res.New()
	if err := req.res.store.Get(req.Context(), req.res.key(req.info.Namespace, req.info.Name), storage.GetOptions{ResourceVersion: rv}, obj); err != nil {
		return err
	}
	return s.respond(req, http.StatusOK, obj, out)
}

// respond writes a single object in the negotiated shape.
func (s *Server) respond(req *request, code int, obj runtime.Object, out outputKind) error {
	switch out {
	case outTable:
		o, err := tableOptionsFrom(req.Request)
		if err != nil {
			return err
		}
		t := s.toTable(req.res, []runtime.Object{obj}, metav1.ListMeta{}, o)
		if m, err := meta.Accessor(obj); err == nil {
			t.ResourceVersion = m.GetResourceVersion()
		}
		s.writeJSON(req.w, code, t)
	case outPartial:
		s.writeJSON(req.w, code, partialMetadata(obj))
	default:
		s.writeObject(req.w, code, obj, out)
	}
	return nil
}

func checkResourceVersion(rv string) error {
	if rv == "" {
		return nil
	}
	if _, err := strconv.ParseUint(rv, 10, 64); err != nil {
		return apierrors.NewBadRequest(fmt.Sprintf("invalid resourceVersion %q: must be an unsigned integer", rv))
	}
	return nil
}

// listOptions parses and validates the list/watch query parameters.
func (s *Server) listOptions(req *request) (metainternal.ListOptions, storage.ListOptions, error) {
	var o metainternal.ListOptions
	if err := metainternalscheme.ParameterCodec.DecodeParameters(req.URL.Query(), metav1.SchemeGroupVersion, &o); err != nil {
		return o, storage.ListOptions{}, apierrors.NewBadRequest(err.Error())
	}
	if errs := metainternalvalidation.ValidateListOptions(&o, req.info.Verb == "watch"); len(errs) > 0 {
		return o, storage.ListOptions{}, apierrors.NewInvalid(metav1.SchemeGroupVersion.WithKind("ListOptions").GroupKind(), "", errs)
	}
	if err := checkResourceVersion(o.ResourceVersion); err != nil {
		return o, storage.ListOptions{}, err
	}
	if err := s.checkFieldSelector(req.res, o.FieldSelector); err != nil {
		return o, storage.ListOptions{}, err
	}
	so := storage.ListOptions{
		ResourceVersion:      o.ResourceVersion,
		ResourceVersionMatch: o.ResourceVersionMatch,
		Recursive:            true,
		AllowBookmarks:       o.AllowWatchBookmarks,
		SendInitialEvents:    o.SendInitialEvents,
		Predicate: storage.SelectionPredicate{
			Label: o.LabelSelector, Field: o.FieldSelector,
			GetAttrs: attrsFunc(req.res), Limit: o.Limit, Continue: o.Continue,
		},
	}
	if so.Predicate.Label == nil {
		so.Predicate.Label = labels.Everything()
	}
	if so.Predicate.Field == nil {
		so.Predicate.Field = fields.Everything()
	}
	return o, so, nil
}

// attrsFunc returns labels and selectable fields for a resource's objects.
func attrsFunc(r *resource) storage.AttrFunc {
	return func(obj runtime.Object) (labels.Set, fields.Set, error) {
		m, err := meta.Accessor(obj)
		if err != nil {
			return nil, nil, err
		}
		fs := fields.Set{"metadata.name": m.GetName()}
		if r.Namespaced {
			fs["metadata.namespace"] = m.GetNamespace()
		}
		if r.Fields != nil {
			for k, v := range r.Fields(obj) {
				fs[k] = v
			}
		}
		return labels.Set(m.GetLabels()), fs, nil
	}
}

// checkFieldSelector rejects field selectors naming unsupported fields, as
// Kubernetes does ("field label not supported").
func (s *Server) checkFieldSelector(r *resource, sel fields.Selector) error {
	if sel == nil || sel.Empty() {
		return nil
	}
	for _, req := range sel.Requirements() {
		if _, ok := r.selectable[req.Field]; !ok {
			return apierrors.NewBadRequest(fmt.Sprintf("field label not supported: %s", req.Field))
		}
	}
	return nil
}

func (s *Server) list(req *request) error {
	out, err := negotiate(req.Request)
	if err != nil {
		return err
	}
	_, opts, err := s.listOptions(req)
	if err != nil {
		return err
	}
	listObj := req.res.NewList()
	if err := req.res.store.GetList(req.Context(), req.res.listKey(req.info.Namespace), opts, listObj); err != nil {
		return err
	}
	return s.respondList(req, listObj, out)
}

func (s *Server) respondList(req *request, listObj runtime.Object, out outputKind) error {
	switch out {
	case outTable, outPartial:
		items, err := meta.ExtractList(listObj)
		if err != nil {
			return err
		}
		lm, err := listMetaOf(listObj)
		if err != nil {
			return err
		}
		if out == outPartial {
			s.writeJSON(req.w, http.StatusOK, partialList(items, lm))
			return nil
		}
		o, err := tableOptionsFrom(req.Request)
		if err != nil {
			return err
		}
		s.writeJSON(req.w, http.StatusOK, s.toTable(req.res, items, lm, o))
	default:
		s.writeObject(req.w, http.StatusOK, listObj, out)
	}
	return nil
}

func listMetaOf(listObj runtime.Object) (metav1.ListMeta, error) {
	la, err := meta.ListAccessor(listObj)
	if err != nil {
		return metav1.ListMeta{}, err
	}
	return metav1.ListMeta{ResourceVersion: la.GetResourceVersion(), Continue: la.GetContinue(),
		RemainingItemCount: la.GetRemainingItemCount()}, nil
}
