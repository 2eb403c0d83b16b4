package controller

import (
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	corelisters "k8s.io/client-go/listers/core/v1"
)

// NamespaceActive reports whether ns takes new content: it is neither
// being deleted nor terminating.
func NamespaceActive(ns *corev1.Namespace) bool {
	return ns.DeletionTimestamp == nil && ns.Status.Phase != corev1.NamespaceTerminating
}

// ActiveNamespace reports whether the named namespace exists in the
// lister's cache and is active; only a failed read is an error.
func ActiveNamespace(l corelisters.NamespaceLister, name string) (bool, error) {
	ns, err := l.Get(name)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return NamespaceActive(ns), nil
}

// NamespaceGone reports whether a create failed because its namespace
// began terminating or went away meanwhile (403 or 404), which controllers
// that fill every namespace treat as nothing to do.
func NamespaceGone(err error) bool {
	return apierrors.IsForbidden(err) || apierrors.IsNotFound(err)
}
