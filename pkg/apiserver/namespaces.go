package apiserver

import (
	"context"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tugcluster/tug/pkg/storage"
)

// namespaceAcceptsContent: objects may only be created in a namespace that
// exists and is not being deleted.
func (s *Server) namespaceAcceptsContent(ctx context.Context, name string) error {
	r := s.lookup("", "v1", "namespaces")
	ns := &corev1.Namespace{}
	// A consistent read: the watch cache may not yet show a namespace that
	// was created or marked for deletion a moment ago.
	err := r.store.Get(ctx, r.key("", name), storage.GetOptions{}, ns)
	if isNotFound(err) {
		return apierrors.NewNotFound(r.GroupResource(), name)
	}
	if err != nil {
		return err
	}
	if ns.DeletionTimestamp != nil || ns.Status.Phase == corev1.NamespaceTerminating {
		return apierrors.NewForbidden(r.GroupResource(), name,
			fmt.Errorf("unable to create new content in namespace %s because it is being terminated", name))
	}
	return nil
}

// namespacePending: a namespace with spec.finalizers is deleted by the
// namespace controller after its contents are gone, not at once.
func namespacePending(r *resource, obj runtime.Object) bool {
	ns, ok := obj.(*corev1.Namespace)
	return ok && r.Group == "" && len(ns.Spec.Finalizers) > 0
}

func markNamespaceTerminating(obj runtime.Object) {
	if ns, ok := obj.(*corev1.Namespace); ok {
		ns.Status.Phase = corev1.NamespaceTerminating
	}
}

// finalizeNamespace serves PUT namespaces/{name}/finalize: only
// spec.finalizers change; a namespace being deleted with none left goes.
func (s *Server) finalizeNamespace(req *request) error {
	o, err := parseWriteOptions(req)
	if err != nil {
		return err
	}
	obj, err := s.decodeBody(req, o)
	if err != nil {
		return err
	}
	want := obj.(*corev1.Namespace)
	out, err := s.rawUpdate(req, o.dryRun, func(current runtime.Object) (runtime.Object, error) {
		ns := current.DeepCopyObject().(*corev1.Namespace)
		if want.ResourceVersion != "" && want.ResourceVersion != ns.ResourceVersion {
			return nil, apierrors.NewConflict(req.res.GroupResource(), ns.Name, fmt.Errorf("%s", conflictMessage))
		}
		ns.Spec.Finalizers = want.Spec.Finalizers
		return ns, nil
	})
	if err != nil {
		return err
	}
	ns := out.(*corev1.Namespace)
	if !o.dryRun && ns.DeletionTimestamp != nil && len(ns.Spec.Finalizers) == 0 && len(ns.Finalizers) == 0 {
		if out, err = s.deleteNow(req.Context(), req.res, ns); err != nil && !isNotFound(err) {
			return err
		}
	}
	s.writeJSON(req.w, http.StatusOK, out)
	return nil
}
