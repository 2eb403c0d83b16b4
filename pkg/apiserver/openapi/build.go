package openapi

import (
	"cmp"
	"reflect"
	"slices"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugcluster/tug/pkg/apiserver/registry"
)

var coreV1 = schema.GroupVersion{Version: "v1"}

// buildDocuments derives the definitions, routes and documents of the
// resources in one pass.
func buildDocuments(resources []*registry.Resource, extra []ExtraKind) (*documents, error) {
	sem, err := loadSemantics()
	if err != nil {
		return nil, err
	}
	defs := newDefinitions(sem)
	gvks := map[string]map[schema.GroupVersionKind]bool{}
	mark := func(def string, gvk schema.GroupVersionKind) {
		if gvks[def] == nil {
			gvks[def] = map[schema.GroupVersionKind]bool{}
		}
		gvks[def][gvk] = true
	}
	for _, meta := range []any{metav1.Status{}, metav1.DeleteOptions{}, metav1.WatchEvent{}, metav1.Patch{}, metav1.APIResourceList{}} {
		if _, err := defs.add(reflect.TypeOf(meta)); err != nil {
			return nil, err
		}
	}

	q := newQueryParams()
	gvs := []schema.GroupVersion{coreV1}
	routes := map[schema.GroupVersion][]route{}
	for _, r := range resources {
		gv := r.GroupVersion()
		if !slices.Contains(gvs, gv) {
			gvs = append(gvs, gv)
		}
		def, err := defs.add(reflect.TypeOf(r.New()))
		if err != nil {
			return nil, err
		}
		list, err := defs.add(reflect.TypeOf(r.NewList()))
		if err != nil {
			return nil, err
		}
		mark(def, gv.WithKind(r.Kind))
		mark(list, gv.WithKind(r.Kind+"List"))
		if r.Scale != nil {
			if _, err := defs.add(reflect.TypeOf(autoscalingv1.Scale{})); err != nil {
				return nil, err
			}
			mark(defScale, autoscalingv1.SchemeGroupVersion.WithKind("Scale"))
		}
		routes[gv] = append(routes[gv], resourceRoutes(resourceNames{
			gv: gv, plural: r.Name, kind: r.Kind, namespaced: r.Namespaced,
			def: def, list: list, status: r.Status, scale: r.Scale != nil,
		}, q)...)
	}
	roots := map[schema.GroupVersion][]string{}
	for _, e := range extra {
		def, err := defs.add(reflect.TypeOf(e.Object))
		if err != nil {
			return nil, err
		}
		gv := schema.GroupVersion{Group: e.Group, Version: e.Version}
		mark(def, gv.WithKind(e.Kind))
		roots[gv] = append(roots[gv], def)
	}
	mark(defStatus, coreV1.WithKind("Status"))
	for _, gv := range gvs {
		mark(defDeleteOptions, gv.WithKind("DeleteOptions"))
		mark(defWatchEvent, gv.WithKind("WatchEvent"))
	}
	for def, set := range gvks {
		defs.schema[def].AddExtension("x-kubernetes-group-version-kind", sortedGVKs(set))
	}

	var all []route
	for _, gv := range gvs {
		routes[gv] = append([]route{discoveryRoute(gv)}, routes[gv]...)
		all = append(all, routes[gv]...)
	}
	d := &documents{v3: map[string][]byte{}, v3hash: map[string]string{}}
	if d.v2, err = renderV2(all, defs.schema); err != nil {
		return nil, err
	}
	d.v2hash = hash(d.v2)
	d.v3defs = toV3(defs.schema, defs.oneOf)
	for _, gv := range gvs {
		doc, err := renderV3(routes[gv], d.v3defs, append(roots[gv], defStatus, defDeleteOptions, defWatchEvent))
		if err != nil {
			return nil, err
		}
		d.v3[gvKey(gv)], d.v3hash[gvKey(gv)] = doc, hash(doc)
	}
	if d.index, err = buildIndex(d.v3hash); err != nil {
		return nil, err
	}
	return d, nil
}

func sortGVKs(list []schema.GroupVersionKind) {
	slices.SortFunc(list, func(a, b schema.GroupVersionKind) int {
		return cmp.Or(cmp.Compare(a.Group, b.Group), cmp.Compare(a.Version, b.Version), cmp.Compare(a.Kind, b.Kind))
	})
}
