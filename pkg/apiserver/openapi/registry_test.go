package openapi

import (
	"testing"

	"github.com/tugcluster/tug/pkg/apiserver/registry"
)

// TestRegistryResources builds the documents of everything the API server
// actually serves.
func TestRegistryResources(t *testing.T) {
	resources := registry.All()
	b, err := New(resources)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.V2(); err != nil {
		t.Fatal(err)
	}
	defs := b.Definitions()
	for _, r := range resources {
		if _, err := b.V3(gvKey(r.GroupVersion())); err != nil {
			t.Errorf("%s: %v", r.GroupResource(), err)
		}
		found := false
		for _, s := range defs {
			var gvks []map[string]string
			if s.Extensions.GetObject("x-kubernetes-group-version-kind", &gvks) != nil {
				continue
			}
			for _, g := range gvks {
				found = found || (g["group"] == r.Group && g["version"] == r.Version && g["kind"] == r.Kind)
			}
		}
		if !found {
			t.Errorf("%s: no definition carries its kind", r.GroupResource())
		}
	}
}
