package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalscheme "k8s.io/apimachinery/pkg/apis/meta/internalversion/scheme"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tugcluster/tug/pkg/storage"
)

// immortalNamespaces cannot be deleted, as in Kubernetes.
var immortalNamespaces = map[string]bool{"default": true, "kube-system": true, "kube-public": true}

// deleteOptions reads DeleteOptions from the body or the query.
func deleteOptions(req *request) (*metav1.DeleteOptions, error) {
	opts := &metav1.DeleteOptions{}
	body, err := readBody(req.Request)
	if err != nil {
		return nil, err
	}
	if len(body) > 0 {
		if err := req.s.codecs.decodeOptions(req.Header.Get("Content-Type"), body, opts); err != nil {
			return nil, err
		}
	} else if err := metainternalscheme.ParameterCodec.DecodeParameters(req.URL.Query(), metav1.SchemeGroupVersion, opts); err != nil {
		return nil, badRequest("invalid delete options: %v", err)
	}
	if err := checkDeleteOptions(opts, func(v string) error {
		return invalidParam("dryRun", v, `supported values: "All"`)
	}); err != nil {
		return nil, err
	}
	if req.URL.Query().Get("dryRun") == metav1.DryRunAll {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	return opts, nil
}

// checkDeleteOptions checks what DeleteOptions may say, wherever they come
// from (query, body, an Eviction): dryRun only "All" (badDryRun words the
// error), a known propagationPolicy and not together with orphanDependents;
// a negative grace period means 0.
func checkDeleteOptions(opts *metav1.DeleteOptions, badDryRun func(v string) error) error {
	for _, v := range opts.DryRun {
		if v != metav1.DryRunAll {
			return badDryRun(v)
		}
	}
	if opts.GracePeriodSeconds != nil && *opts.GracePeriodSeconds < 0 {
		opts.GracePeriodSeconds = new(int64)
	}
	if p := opts.PropagationPolicy; p != nil {
		switch *p {
		case metav1.DeletePropagationBackground, metav1.DeletePropagationForeground, metav1.DeletePropagationOrphan:
		default:
			return apierrors.NewBadRequest(`propagationPolicy must be one of "Orphan", "Background", "Foreground"`)
		}
		if opts.OrphanDependents != nil {
			return apierrors.NewBadRequest("orphanDependents and propagationPolicy cannot both be set")
		}
	}
	return nil
}

func (s *Server) delete(req *request) error {
	out, err := negotiate(req.Request)
	if err != nil {
		return err
	}
	opts, err := deleteOptions(req)
	if err != nil {
		return err
	}
	obj, deleted, err := s.deleteObject(req.Context(), req.res, req.info.Namespace, req.info.Name, opts)
	if err != nil {
		return err
	}
	if deleted && !returnsDeletedObject(req.res) {
		s.writeJSON(req.w, http.StatusOK, deletedStatus(req.res, obj))
		return nil
	}
	return s.respond(req, http.StatusOK, obj, out)
}

// returnsDeletedObject: Kubernetes answers an immediate delete with the
// object for some resources and with a Status for the rest.
func returnsDeletedObject(r *resource) bool {
	return r.Group == "" && (r.Name == "pods" || r.Name == "services" || r.Name == "namespaces")
}

func deletedStatus(r *resource, obj runtime.Object) *metav1.Status {
	m, _ := meta.Accessor(obj)
	return &metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusSuccess,
		Details:  &metav1.StatusDetails{Name: m.GetName(), Group: r.Group, Kind: r.Name, UID: m.GetUID()},
	}
}

// deleteObject deletes one object: at once, or by marking it with a
// deletionTimestamp when finalizers or a grace period must run first.
// deleted reports whether the object is gone.
func (s *Server) deleteObject(ctx context.Context, r *resource, ns, name string, opts *metav1.DeleteOptions) (runtime.Object, bool, error) {
	if r.Group == "" && r.Name == "namespaces" && immortalNamespaces[name] {
		return nil, false, apierrors.NewForbidden(r.GroupResource(), name, errors.New("this namespace may not be deleted"))
	}
	key := r.key(ns, name)
	current := r.New()
	if err := r.store.Get(ctx, key, storage.GetOptions{}, current); err != nil {
		return nil, false, err
	}
	if err := checkDeletePreconditions(r, name, opts.Preconditions, current); err != nil {
		return nil, false, err
	}
	grace := int64(0)
	if r.GracefulDeletion != nil {
		grace = r.GracefulDeletion(current, opts.GracePeriodSeconds)
	}
	finalizers := finalizersFor(current, opts)
	pending := grace > 0 || len(finalizers) > 0 || namespacePending(r, current)
	dryRun := len(opts.DryRun) > 0
	if !pending {
		if dryRun {
			return current, true, nil
		}
		out, err := s.deleteNow(ctx, r, current)
		return out, err == nil, err
	}
	mark := func(cur runtime.Object) (runtime.Object, error) {
		if err := checkDeletePreconditions(r, name, opts.Preconditions, cur); err != nil {
			return nil, err
		}
		obj := cur.DeepCopyObject()
		markDeleting(r, obj, finalizersFor(cur, opts), grace)
		return obj, nil
	}
	if dryRun {
		obj, err := mark(current)
		return obj, false, err
	}
	out := r.New()
	if err := r.store.GuaranteedUpdate(ctx, key, out, nil, mark); err != nil {
		return nil, false, err
	}
	if finished(r, out) {
		obj, err := s.deleteNow(ctx, r, out)
		return obj, err == nil, err
	}
	return out, false, nil
}

// markDeleting sets deletionTimestamp and the grace period (shortening an
// earlier, longer one) and the finalizers the propagation policy asks for.
func markDeleting(r *resource, obj runtime.Object, finalizers []string, grace int64) {
	m, _ := meta.Accessor(obj)
	now := time.Now()
	if old := m.GetDeletionGracePeriodSeconds(); m.GetDeletionTimestamp() == nil || (old != nil && grace < *old) {
		ts := metav1.NewTime(now.Add(time.Duration(grace) * time.Second).Truncate(time.Second))
		m.SetDeletionTimestamp(&ts)
		m.SetDeletionGracePeriodSeconds(&grace)
		if !r.NoGeneration {
			m.SetGeneration(m.GetGeneration() + 1)
		}
	}
	m.SetFinalizers(finalizers)
	if r.Group == "" && r.Name == "namespaces" {
		markNamespaceTerminating(obj)
	}
}

// finalizersFor returns the object's finalizers plus the one the
// propagation policy adds (orphan or foregroundDeletion).
func finalizersFor(obj runtime.Object, opts *metav1.DeleteOptions) []string {
	m, _ := meta.Accessor(obj)
	fs := slices.Clone(m.GetFinalizers())
	add := ""
	switch {
	case opts.PropagationPolicy != nil && *opts.PropagationPolicy == metav1.DeletePropagationOrphan,
		opts.OrphanDependents != nil && *opts.OrphanDependents:
		add = metav1.FinalizerOrphanDependents
	case opts.PropagationPolicy != nil && *opts.PropagationPolicy == metav1.DeletePropagationForeground:
		add = metav1.FinalizerDeleteDependents
	}
	if add != "" && !slices.Contains(fs, add) && m.GetDeletionTimestamp() == nil {
		fs = append(fs, add)
	}
	return fs
}

func checkDeletePreconditions(r *resource, name string, pre *metav1.Preconditions, current runtime.Object) error {
	if pre == nil {
		return nil
	}
	m, _ := meta.Accessor(current)
	if pre.UID != nil && *pre.UID != m.GetUID() {
		return apierrors.NewConflict(r.GroupResource(), name,
			fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *pre.UID, m.GetUID()))
	}
	if pre.ResourceVersion != nil && *pre.ResourceVersion != m.GetResourceVersion() {
		return apierrors.NewConflict(r.GroupResource(), name,
			fmt.Errorf("Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v",
				*pre.ResourceVersion, m.GetResourceVersion()))
	}
	return nil
}

// deleteNow removes obj from storage if it is still the same object.
func (s *Server) deleteNow(ctx context.Context, r *resource, obj runtime.Object) (runtime.Object, error) {
	m, _ := meta.Accessor(obj)
	uid := m.GetUID()
	out := r.New()
	if err := r.store.Delete(ctx, r.key(m.GetNamespace(), m.GetName()), out, &storage.Preconditions{UID: &uid}); err != nil {
		return nil, err
	}
	s.afterDelete(r, out)
	return out, nil
}

func (s *Server) deleteCollection(req *request) error {
	_, lopts, err := s.listOptions(req)
	if err != nil {
		return err
	}
	opts, err := deleteOptions(req)
	if err != nil {
		return err
	}
	lopts.Predicate.Limit, lopts.Predicate.Continue = 0, ""
	listObj := req.res.NewList()
	if err := req.res.store.GetList(req.Context(), req.res.listKey(req.info.Namespace), lopts, listObj); err != nil {
		return err
	}
	items, err := meta.ExtractList(listObj)
	if err != nil {
		return err
	}
	var done []runtime.Object
	for _, item := range items {
		m, _ := meta.Accessor(item)
		obj, _, err := s.deleteObject(req.Context(), req.res, m.GetNamespace(), m.GetName(), opts)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		done = append(done, obj)
	}
	if err := meta.SetList(listObj, done); err != nil {
		return err
	}
	s.writeJSON(req.w, http.StatusOK, listObj)
	return nil
}
