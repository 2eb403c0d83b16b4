package openapi

import (
	"crypto/sha512"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"sync"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/tugcluster/tug/pkg/apiserver/registry"
)

// ErrNotFound is returned for a v3 document of a group version that is not
// served.
var ErrNotFound = errors.New("openapi document not found")

// ExtraKind is a kind served outside the registry's resources, for example
// the policy/v1 Eviction posted to pods/eviction. Its definition gets the
// kind's x-kubernetes-group-version-kind.
type ExtraKind struct {
	Group, Version, Kind string
	// Object is a value of the Go type, e.g. &policyv1.Eviction{}.
	Object any
}

// Builder produces the OpenAPI documents of a fixed set of resources. The
// documents are built on first use and cached; a Builder is safe for
// concurrent use.
type Builder struct {
	resources []*registry.Resource
	extra     []ExtraKind

	once sync.Once
	docs *documents
	err  error

	protoOnce sync.Once
	v2proto   []byte
	protoErr  error
}

// documents is everything one build produces.
type documents struct {
	v2     []byte
	v2hash string
	v3     map[string][]byte // by "api/v1", "apis/apps/v1"
	v3hash map[string]string
	index  []byte
	v3defs map[string]*spec.Schema
}

// New checks the resources and returns a Builder for them. The documents
// are built lazily by the first call that needs them.
func New(resources []*registry.Resource, extra ...ExtraKind) (*Builder, error) {
	seen := map[string]bool{}
	for _, r := range resources {
		key := r.Group + "/" + r.Version + "/" + r.Name
		switch {
		case r.Version == "" || r.Name == "" || r.Kind == "":
			return nil, fmt.Errorf("resource %q: group version, name and kind are required", key)
		case r.New == nil || r.NewList == nil:
			return nil, fmt.Errorf("resource %s: New and NewList are required", key)
		case seen[key]:
			return nil, fmt.Errorf("resource %s: listed twice", key)
		}
		seen[key] = true
		for _, obj := range []any{r.New(), r.NewList()} {
			if t := reflect.TypeOf(obj); t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
				return nil, fmt.Errorf("resource %s: %T is not a pointer to a struct", key, obj)
			}
		}
	}
	for _, e := range extra {
		if e.Version == "" || e.Kind == "" || e.Object == nil {
			return nil, fmt.Errorf("extra kind %s/%s %s: version, kind and object are required", e.Group, e.Version, e.Kind)
		}
	}
	return &Builder{resources: resources, extra: extra}, nil
}

func (b *Builder) build() (*documents, error) {
	b.once.Do(func() {
		b.docs, b.err = buildDocuments(b.resources, b.extra)
		if b.err != nil {
			b.err = fmt.Errorf("build openapi: %w", b.err)
		}
	})
	return b.docs, b.err
}

// V2 returns the Swagger 2.0 document (JSON) of every resource.
func (b *Builder) V2() ([]byte, error) {
	d, err := b.build()
	if err != nil {
		return nil, err
	}
	return d.v2, nil
}

// V2Proto returns the v2 document in the protobuf encoding
// (application/com.github.proto-openapi.spec.v2@v1.0+protobuf), the only
// form kubectl and client-go's discovery client read.
func (b *Builder) V2Proto() ([]byte, error) {
	b.protoOnce.Do(func() {
		v2, err := b.V2()
		if err != nil {
			b.protoErr = err
			return
		}
		doc, err := openapi_v2.ParseDocument(v2)
		if err != nil {
			b.protoErr = fmt.Errorf("parse openapi v2: %w", err)
			return
		}
		if b.v2proto, err = proto.Marshal(doc); err != nil {
			b.protoErr = fmt.Errorf("encode openapi v2 protobuf: %w", err)
		}
	})
	return b.v2proto, b.protoErr
}

// V2Hash is the ETag value of the v2 document (upper-case hex SHA-512 of
// its JSON form, as Kubernetes computes it; serve it quoted).
func (b *Builder) V2Hash() (string, error) {
	d, err := b.build()
	if err != nil {
		return "", err
	}
	return d.v2hash, nil
}

// V3Index returns the /openapi/v3 index: every group version with the URL
// of its document, including ?hash=.
func (b *Builder) V3Index() ([]byte, error) {
	d, err := b.build()
	if err != nil {
		return nil, err
	}
	return d.index, nil
}

// V3 returns the v3 document of one group version; path is "api/v1" or
// "apis/<group>/<version>". Unknown paths give ErrNotFound.
func (b *Builder) V3(path string) ([]byte, error) {
	doc, _, err := b.V3WithHash(path)
	return doc, err
}

// V3WithHash returns the v3 document of one group version and its hash
// (the ETag, and the hash= value of the index).
func (b *Builder) V3WithHash(path string) ([]byte, string, error) {
	d, err := b.build()
	if err != nil {
		return nil, "", err
	}
	key := strings.Trim(path, "/")
	doc, ok := d.v3[key]
	if !ok {
		return nil, "", fmt.Errorf("openapi v3 %q: %w", path, ErrNotFound)
	}
	return doc, d.v3hash[key], nil
}

// Definitions returns every schema in OpenAPI v3 form, keyed by definition
// name, with their extensions (group-version-kind, list and map types),
// as managedfields.NewTypeConverter expects. It returns nil when the
// documents cannot be built (V2 and V3 report why). Callers must not
// modify the result.
func (b *Builder) Definitions() map[string]*spec.Schema {
	d, err := b.build()
	if err != nil {
		return nil
	}
	return d.v3defs
}

func hash(data []byte) string {
	return fmt.Sprintf("%X", sha512.Sum512(data))
}

type v3Index struct {
	Paths map[string]v3IndexEntry `json:"paths"`
}

type v3IndexEntry struct {
	ServerRelativeURL string `json:"serverRelativeURL"`
}

func buildIndex(hashes map[string]string) ([]byte, error) {
	idx := v3Index{Paths: make(map[string]v3IndexEntry, len(hashes))}
	for key, h := range hashes {
		idx.Paths[key] = v3IndexEntry{ServerRelativeURL: "/openapi/v3/" + key + "?" + url.Values{"hash": {h}}.Encode()}
	}
	out, err := json.Marshal(idx)
	if err != nil {
		return nil, fmt.Errorf("encode openapi v3 index: %w", err)
	}
	return out, nil
}

func sortedGVKs(set map[schema.GroupVersionKind]bool) []any {
	list := make([]schema.GroupVersionKind, 0, len(set))
	for gvk := range set {
		list = append(list, gvk)
	}
	sortGVKs(list)
	out := make([]any, len(list))
	for i, gvk := range list {
		out[i] = map[string]any{"group": gvk.Group, "version": gvk.Version, "kind": gvk.Kind}
	}
	return out
}
