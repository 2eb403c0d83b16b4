package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugcluster/tug/pkg/storage"
)

// writeOptions are the query parameters every mutating call accepts.
type writeOptions struct {
	dryRun          bool
	fieldValidation string // Strict, Warn or Ignore
}

func parseWriteOptions(req *request) (writeOptions, error) {
	q := req.URL.Query()
	var o writeOptions
	for _, v := range q["dryRun"] {
		if v != metav1.DryRunAll {
			return o, invalidParam("dryRun", v, `supported values: "All"`)
		}
		o.dryRun = true
	}
	switch v := q.Get("fieldValidation"); v {
	case "", "Warn":
		o.fieldValidation = "Warn"
	case "Strict", "Ignore":
		o.fieldValidation = v
	default:
		return o, invalidParam("fieldValidation", v, `supported values: "Ignore", "Strict", "Warn"`)
	}
	return o, nil
}

func invalidParam(name, value, detail string) error {
	return apierrors.NewBadRequest(fmt.Sprintf("Invalid value: %q for query parameter %s: %s", value, name, detail))
}

// decodeBody decodes the request body as the resource's kind and applies
// fieldValidation to unknown or duplicate fields.
func (s *Server) decodeBody(req *request, o writeOptions) (runtime.Object, error) {
	body, err := readBody(req.Request)
	if err != nil {
		return nil, err
	}
	return s.decodeChecked(req, o, req.Header.Get("Content-Type"), body)
}

func (s *Server) decodeChecked(req *request, o writeOptions, contentType string, body []byte) (runtime.Object, error) {
	return s.decodeAs(req.w, o, contentType, body, req.res.GroupVersionKind(), req.res.New())
}

// decodeAs decodes body into a new object of kind want and applies
// fieldValidation; unknown fields become warnings on w unless Strict.
func (s *Server) decodeAs(w http.ResponseWriter, o writeOptions, contentType string, body []byte,
	want schema.GroupVersionKind, into runtime.Object) (runtime.Object, error) {
	res, err := s.codecs.decode(contentType, body, want, into)
	if err != nil {
		return nil, err
	}
	if len(res.warnings) > 0 {
		switch o.fieldValidation {
		case "Strict":
			return nil, cannotBeHandled(res.gvk, want,
				errors.New("strict decoding error: "+strings.Join(res.warnings, ", ")), body)
		case "Warn":
			for _, text := range res.warnings {
				addWarning(w, text)
			}
		}
	}
	return res.obj, nil
}

// readPosted decodes the body of a POST that is answered rather than
// stored (reviews, token requests) as want, under the request's write
// options, and returns the encoding to answer in: such answers are never
// tables, so a table request gets JSON.
func (s *Server) readPosted(req *request, want schema.GroupVersionKind, into runtime.Object) (runtime.Object, outputKind, writeOptions, error) {
	out, err := negotiate(req.Request)
	if err != nil {
		return nil, out, writeOptions{}, err
	}
	o, err := parseWriteOptions(req)
	if err != nil {
		return nil, out, o, err
	}
	body, err := readBody(req.Request)
	if err != nil {
		return nil, out, o, err
	}
	obj, err := s.decodeAs(req.w, o, req.Header.Get("Content-Type"), body, want, into)
	if out == outTable || out == outPartial {
		out = outJSON
	}
	return obj, out, o, err
}

// addWarning adds a Kubernetes-style Warning header (code 299).
func addWarning(w http.ResponseWriter, text string) {
	w.Header().Add("Warning", fmt.Sprintf("299 - %q", text))
}

func (s *Server) create(req *request) error {
	out, err := negotiate(req.Request)
	if err != nil {
		return err
	}
	o, err := parseWriteOptions(req)
	if err != nil {
		return err
	}
	obj, err := s.decodeBody(req, o)
	if err != nil {
		return err
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	if err := checkNamespace(req, m); err != nil {
		return err
	}
	if m.GetResourceVersion() != "" {
		return apierrors.NewBadRequest("resourceVersion should not be set on objects to be created")
	}
	created, err := s.createObject(req.Context(), req.res, obj, o.dryRun)
	if err != nil {
		return err
	}
	return s.respond(req, http.StatusCreated, created, out)
}

// createObject runs the create rules and stores obj (unless dryRun).
// It is shared by POST and by internal bootstrapping.
func (s *Server) createObject(ctx context.Context, r *resource, obj runtime.Object, dryRun bool) (runtime.Object, error) {
	m, _ := meta.Accessor(obj)
	if r.Namespaced {
		if err := s.namespaceAcceptsContent(ctx, m.GetNamespace()); err != nil {
			return nil, err
		}
	} else {
		m.SetNamespace("")
	}
	generated := m.GetName() == "" && m.GetGenerateName() != ""
	for attempt := 0; ; attempt++ {
		if generated {
			m.SetName("")
		}
		if err := prepareCreate(r, obj, time.Now()); err != nil {
			return nil, err
		}
		if errs := validateCreate(r, obj); len(errs) > 0 {
			return nil, apierrors.NewInvalid(r.GroupVersionKind().GroupKind(), m.GetName(), errs)
		}
		release, err := s.admitCreate(ctx, r, obj, dryRun)
		if err != nil {
			return nil, err
		}
		if dryRun {
			release()
			return obj, nil
		}
		out := r.New()
		err = r.store.Create(ctx, r.key(m.GetNamespace(), m.GetName()), obj, out)
		if err == nil {
			return out, nil
		}
		release()
		if errors.Is(err, storage.ErrExists) && generated && attempt < 8 {
			continue
		}
		if errors.Is(err, storage.ErrExists) {
			return nil, apierrors.NewAlreadyExists(r.GroupResource(), m.GetName())
		}
		return nil, err
	}
}

// checkNamespace makes the body's namespace agree with the URL's.
func checkNamespace(req *request, m metav1.Object) error {
	if !req.res.Namespaced {
		return nil
	}
	if ns := m.GetNamespace(); ns != "" && ns != req.info.Namespace {
		return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	m.SetNamespace(req.info.Namespace)
	return nil
}

func (s *Server) update(req *request, kind updateKind) error {
	out, err := negotiate(req.Request)
	if err != nil {
		return err
	}
	o, err := parseWriteOptions(req)
	if err != nil {
		return err
	}
	obj, err := s.decodeBody(req, o)
	if err != nil {
		return err
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	if m.GetName() != req.info.Name {
		return apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", m.GetName(), req.info.Name))
	}
	if err := checkNamespace(req, m); err != nil {
		return err
	}
	updated, err := s.updateObject(req.Context(), req.res, kind, req.info.Namespace, req.info.Name, o.dryRun,
		func(runtime.Object) (runtime.Object, error) { return obj.DeepCopyObject(), nil })
	if err != nil {
		return err
	}
	return s.respond(req, http.StatusOK, updated, out)
}

// updateObject reads the stored object, asks newObj for the requested
// state, and runs the update rules, retrying on concurrent writes.
func (s *Server) updateObject(ctx context.Context, r *resource, kind updateKind, ns, name string, dryRun bool,
	newObj func(current runtime.Object) (runtime.Object, error)) (runtime.Object, error) {
	try := func(current runtime.Object) (runtime.Object, error) {
		obj, err := newObj(current)
		if err != nil {
			return nil, err
		}
		if err := checkPreconditions(r, name, obj, current); err != nil {
			return nil, err
		}
		// Compare against the stored object with defaults applied, as the
		// new one has them: fields protobuf does not keep (the type meta of
		// embedded objects) would otherwise look changed.
		old := current
		if r.Default != nil {
			old = current.DeepCopyObject()
			r.Default(old)
		}
		obj, err = prepareUpdate(r, kind, obj, old)
		if err != nil {
			return nil, err
		}
		if errs := validateUpdate(r, kind, obj, old); len(errs) > 0 {
			return nil, apierrors.NewInvalid(r.GroupVersionKind().GroupKind(), name, errs)
		}
		if err := s.admitUpdate(ctx, r, obj, old, dryRun); err != nil {
			return nil, err
		}
		return obj, nil
	}
	key := r.key(ns, name)
	if dryRun {
		current := r.New()
		if err := r.store.Get(ctx, key, storage.GetOptions{}, current); err != nil {
			return nil, err
		}
		return try(current)
	}
	out := r.New()
	if err := r.store.GuaranteedUpdate(ctx, key, out, nil, try); err != nil {
		return nil, err
	}
	if finished(r, out) {
		return s.deleteNow(ctx, r, out)
	}
	return out, nil
}

// checkPreconditions: a resourceVersion or UID in the request must match
// the stored object.
func checkPreconditions(r *resource, name string, obj, current runtime.Object) error {
	m, _ := meta.Accessor(obj)
	cm, _ := meta.Accessor(current)
	if rv := m.GetResourceVersion(); rv != "" && rv != cm.GetResourceVersion() {
		return apierrors.NewConflict(r.GroupResource(), name, errors.New(conflictMessage))
	}
	if uid := m.GetUID(); uid != "" && uid != cm.GetUID() {
		return apierrors.NewConflict(r.GroupResource(), name,
			fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", uid, cm.GetUID()))
	}
	return nil
}

// finished: an object being deleted whose finalizers are all gone and
// whose grace period is over is removed for good.
func finished(r *resource, obj runtime.Object) bool {
	m, err := meta.Accessor(obj)
	if err != nil || m.GetDeletionTimestamp() == nil || len(m.GetFinalizers()) > 0 || namespacePending(r, obj) {
		return false
	}
	g := m.GetDeletionGracePeriodSeconds()
	return g == nil || *g == 0
}
