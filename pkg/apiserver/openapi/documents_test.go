package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/kube-openapi/pkg/spec3"

	"github.com/tugcluster/tug/pkg/apiserver/registry"
)

// v2Doc decodes the v2 document into generic JSON.
func v2Doc(t *testing.T, b *Builder) map[string]any {
	t.Helper()
	raw, err := b.V2()
	if err != nil {
		t.Fatalf("V2: %v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("v2 is not JSON: %v", err)
	}
	return doc
}

// at walks a decoded JSON document along keys.
func at(t *testing.T, v any, keys ...string) any {
	t.Helper()
	for i, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%v: not an object", keys[:i])
		}
		if v, ok = m[k]; !ok {
			t.Fatalf("%v: missing", keys[:i+1])
		}
	}
	return v
}

func TestDocumentsAreDeterministicJSON(t *testing.T) {
	a, b := testBuilder(t), mustNew(t)
	v2a, _ := a.V2()
	v2b, err := b.V2()
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(v2a) || !bytes.Equal(v2a, v2b) {
		t.Fatalf("v2 documents differ between builds or are invalid JSON")
	}
	idxA, _ := a.V3Index()
	idxB, _ := b.V3Index()
	if !json.Valid(idxA) || !bytes.Equal(idxA, idxB) {
		t.Fatalf("v3 indexes differ between builds or are invalid JSON:\n%s\n%s", idxA, idxB)
	}
}

func mustNew(t *testing.T) *Builder {
	t.Helper()
	b, err := New(testResources(), testExtra...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPodDefinition(t *testing.T) {
	defs := at(t, v2Doc(t, testBuilder(t)), "definitions")
	pod := at(t, defs, "io.k8s.api.core.v1.Pod")
	if d, _ := at(t, pod, "description").(string); d == "" {
		t.Errorf("Pod has no description")
	}
	wantGVK := []any{map[string]any{"group": "", "version": "v1", "kind": "Pod"}}
	if diff := cmp.Diff(wantGVK, at(t, pod, "x-kubernetes-group-version-kind")); diff != "" {
		t.Errorf("Pod GVK (-want +got):\n%s", diff)
	}
	if d, _ := at(t, pod, "properties", "spec", "description").(string); d == "" {
		t.Errorf("Pod.spec has no description")
	}
	if got := at(t, pod, "properties", "metadata", "$ref"); got != "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" {
		t.Errorf("Pod.metadata ref = %v", got)
	}
	if d, _ := at(t, pod, "properties", "kind", "description").(string); d == "" {
		t.Errorf("inline TypeMeta field kind has no description")
	}

	containers := at(t, defs, "io.k8s.api.core.v1.PodSpec", "properties", "containers")
	for key, want := range map[string]any{
		"x-kubernetes-patch-merge-key": "name",
		"x-kubernetes-patch-strategy":  "merge",
		"x-kubernetes-list-type":       "map",
		"x-kubernetes-list-map-keys":   []any{"name"},
	} {
		if diff := cmp.Diff(want, at(t, containers, key)); diff != "" {
			t.Errorf("PodSpec.containers %s (-want +got):\n%s", key, diff)
		}
	}
	ports := at(t, defs, "io.k8s.api.core.v1.Container", "properties", "ports", "x-kubernetes-list-map-keys")
	if diff := cmp.Diff([]any{"containerPort", "protocol"}, ports); diff != "" {
		t.Errorf("Container.ports keys (-want +got):\n%s", diff)
	}
	if got := at(t, defs, "io.k8s.api.core.v1.Container", "required"); !slices.Contains(got.([]any), any("name")) {
		t.Errorf("Container.required = %v, want name", got)
	}
	if m, _ := defs.(map[string]any)["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"].(map[string]any); m["required"] != nil {
		t.Errorf("ObjectMeta has required fields %v", m["required"])
	}
}

func TestSpecialTypes(t *testing.T) {
	defs := at(t, v2Doc(t, testBuilder(t)), "definitions")
	for name, want := range map[string]map[string]any{
		"io.k8s.apimachinery.pkg.apis.meta.v1.Time":       {"type": "string", "format": "date-time"},
		"io.k8s.apimachinery.pkg.util.intstr.IntOrString": {"type": "string", "format": "int-or-string"},
		"io.k8s.apimachinery.pkg.api.resource.Quantity":   {"type": "string"},
		"io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1":   {"type": "object"},
		"io.k8s.apimachinery.pkg.runtime.RawExtension":    {"type": "object"},
	} {
		def := at(t, defs, name).(map[string]any)
		for k, v := range want {
			if def[k] != v {
				t.Errorf("%s.%s = %v, want %v", name, k, def[k], v)
			}
		}
	}
	data := at(t, defs, "io.k8s.api.core.v1.Secret", "properties", "data", "additionalProperties")
	if diff := cmp.Diff(map[string]any{"type": "string", "format": "byte"}, data); diff != "" {
		t.Errorf("Secret.data values (-want +got):\n%s", diff)
	}
	gvks := at(t, defs, "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions", "x-kubernetes-group-version-kind").([]any)
	for _, gv := range []string{"/v1", "apps/v1", "batch/v1", "policy/v1", "coordination.k8s.io/v1"} {
		if !slices.ContainsFunc(gvks, func(v any) bool {
			m := v.(map[string]any)
			return fmt.Sprintf("%s/%s", m["group"], m["version"]) == gv && m["kind"] == "DeleteOptions"
		}) {
			t.Errorf("DeleteOptions GVKs lack %s: %v", gv, gvks)
		}
	}
	eviction := at(t, defs, "io.k8s.api.policy.v1.Eviction", "x-kubernetes-group-version-kind")
	if diff := cmp.Diff([]any{map[string]any{"group": "policy", "version": "v1", "kind": "Eviction"}}, eviction); diff != "" {
		t.Errorf("Eviction GVK (-want +got):\n%s", diff)
	}
}

func TestPathsForEveryResource(t *testing.T) {
	b := testBuilder(t)
	paths := at(t, v2Doc(t, b), "paths")
	for _, r := range testResources() {
		gv := r.GroupVersion()
		raw, err := b.V3(gvKey(gv))
		if err != nil {
			t.Fatalf("V3(%s): %v", gvKey(gv), err)
		}
		var v3 map[string]any
		if err := json.Unmarshal(raw, &v3); err != nil {
			t.Fatal(err)
		}
		base, scope := gvPrefix(gv), ""
		if r.Namespaced {
			base, scope = base+"/namespaces/{namespace}", "Namespaced"
		}
		id := groupCamel(r.Group) + upperFirst(r.Version) + scope + r.Kind
		want := map[string]map[string]string{
			base + "/" + r.Name:             {"get": "list" + id, "post": "create" + id, "delete": "delete" + groupCamel(r.Group) + upperFirst(r.Version) + "Collection" + scope + r.Kind},
			base + "/" + r.Name + "/{name}": {"get": "read" + id, "put": "replace" + id, "patch": "patch" + id, "delete": "delete" + id},
		}
		if r.Namespaced {
			want[gvPrefix(gv)+"/"+r.Name] = map[string]string{"get": "list" + groupCamel(r.Group) + upperFirst(r.Version) + r.Kind + "ForAllNamespaces"}
		}
		if r.Status {
			want[base+"/"+r.Name+"/{name}/status"] = map[string]string{"get": "read" + id + "Status", "put": "replace" + id + "Status", "patch": "patch" + id + "Status"}
		}
		if r.Scale != nil {
			want[base+"/"+r.Name+"/{name}/scale"] = map[string]string{"get": "read" + id + "Scale", "patch": "patch" + id + "Scale"}
		}
		for path, ops := range want {
			for method, opID := range ops {
				for doc, root := range map[string]any{"v2": paths, "v3": at(t, v3, "paths")} {
					op := at(t, root, path, method)
					if got := at(t, op, "operationId"); got != opID {
						t.Errorf("%s %s %s: operationId %v, want %s", doc, method, path, got, opID)
					}
					if method == "patch" && !hasQueryParam(op, "fieldValidation") {
						t.Errorf("%s patch %s lacks fieldValidation", doc, path)
					}
				}
			}
		}
	}
}

func hasQueryParam(op any, name string) bool {
	params, _ := op.(map[string]any)["parameters"].([]any)
	return slices.ContainsFunc(params, func(p any) bool {
		m := p.(map[string]any)
		return m["name"] == name && m["in"] == "query"
	})
}

func TestV3IndexHashes(t *testing.T) {
	b := testBuilder(t)
	raw, err := b.V3Index()
	if err != nil {
		t.Fatal(err)
	}
	var idx struct {
		Paths map[string]struct {
			ServerRelativeURL string `json:"serverRelativeURL"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatal(err)
	}
	for _, r := range testResources() {
		key := gvKey(r.GroupVersion())
		doc, err := b.V3(key)
		if err != nil {
			t.Fatalf("V3(%s): %v", key, err)
		}
		var parsed spec3.OpenAPI
		if err := json.Unmarshal(doc, &parsed); err != nil || parsed.Components == nil {
			t.Errorf("V3(%s) does not parse as OpenAPI v3: %v", key, err)
		}
		want := "/openapi/v3/" + key + "?hash=" + hash(doc)
		if got := idx.Paths[key].ServerRelativeURL; got != want {
			t.Errorf("index[%s] = %q, want %q", key, got, want)
		}
	}
	if _, err := b.V3("apis/example.com/v1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("V3 of an unknown group version: %v, want ErrNotFound", err)
	}
}

func TestNewRejectsIncompleteResources(t *testing.T) {
	r := testResources()[0]
	bad := *r
	bad.NewList = nil
	if _, err := New([]*registry.Resource{&bad}); err == nil {
		t.Errorf("New accepted a resource without NewList")
	}
	if _, err := New([]*registry.Resource{r, r}); err == nil {
		t.Errorf("New accepted a resource listed twice")
	}
}
