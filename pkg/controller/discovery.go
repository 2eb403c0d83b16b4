package controller

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
)

// APIResource is one served resource as discovery describes it.
type APIResource struct {
	schema.GroupVersionResource
	Kind       string
	Namespaced bool
	Verbs      []string
}

// Supports reports whether every verb is served.
func (r APIResource) Supports(verbs ...string) bool {
	for _, v := range verbs {
		if !slices.Contains(r.Verbs, v) {
			return false
		}
	}
	return true
}

// DiscoverResources lists the preferred version of every served resource
// (no subresources) that supports all the given verbs. When only some API
// groups could be read it returns what it found together with the error.
func DiscoverResources(d discovery.DiscoveryInterface, verbs ...string) ([]APIResource, error) {
	lists, err := d.ServerPreferredResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return nil, fmt.Errorf("discover API resources: %w", err)
	}
	var partial error
	if err != nil {
		partial = fmt.Errorf("discover API resources: %w", err)
	}
	var out []APIResource
	for _, list := range lists {
		gv, perr := schema.ParseGroupVersion(list.GroupVersion)
		if perr != nil {
			partial = errors.Join(partial, fmt.Errorf("discovery group version %q: %w", list.GroupVersion, perr))
			continue
		}
		for _, r := range list.APIResources {
			if strings.Contains(r.Name, "/") {
				continue
			}
			res := APIResource{
				GroupVersionResource: gv.WithResource(r.Name),
				Kind:                 r.Kind,
				Namespaced:           r.Namespaced,
				Verbs:                []string(r.Verbs),
			}
			if res.Supports(verbs...) {
				out = append(out, res)
			}
		}
	}
	return out, partial
}

// HasFinalizer reports whether an object carries the finalizer.
func HasFinalizer(m metav1.Object, finalizer string) bool {
	return slices.Contains(m.GetFinalizers(), finalizer)
}
