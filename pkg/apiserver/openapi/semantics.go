package openapi

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/applyconfigurations"
	smdschema "sigs.k8s.io/structured-merge-diff/v6/schema"
)

// semantics answers what Go struct tags cannot: list types and keys
// (+listType/+listMapKey markers), atomic maps and structs, and field
// defaults. It reads the structured-merge-diff schema client-go carries for
// every built-in type; types it does not know fall back to struct tags.
type semantics struct {
	schema *smdschema.Schema
}

// loadSemantics reaches client-go's schema through a type converter: the
// typed value of any built-in object carries the whole schema.
func loadSemantics() (*semantics, error) {
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("semantics scheme: %w", err)
	}
	tc := applyconfigurations.NewTypeConverter(scheme)
	probe := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}}
	tv, err := tc.ObjectToTyped(probe)
	if err != nil {
		return nil, fmt.Errorf("semantics schema: %w", err)
	}
	return &semantics{schema: tv.Schema()}, nil
}

// typeAtomic reports whether the named struct type is atomic
// (+structType=atomic).
func (s *semantics) typeAtomic(defName string) bool {
	if s == nil {
		return false
	}
	t, ok := s.schema.FindNamedType(defName)
	return ok && t.Map != nil && t.Map.ElementRelationship == smdschema.Atomic
}

// fieldInfo is what the schema says about one field of a named type.
type fieldInfo struct {
	known bool
	// list semantics, when the field is a list
	listType string // "atomic", "set" or "map"
	listKeys []string
	// mapType is "atomic" or "granular" when the field is a map or struct
	// with an explicit relationship.
	mapType string
	def     any
}

func (s *semantics) field(defName, field string) fieldInfo {
	if s == nil {
		return fieldInfo{}
	}
	t, ok := s.schema.FindNamedType(defName)
	if !ok || t.Map == nil {
		return fieldInfo{}
	}
	f, ok := t.Map.FindField(field)
	if !ok {
		return fieldInfo{}
	}
	info := fieldInfo{known: true, def: f.Default}
	atom, ok := s.schema.Resolve(f.Type)
	if !ok {
		return info
	}
	switch {
	case atom.List != nil:
		switch {
		case atom.List.ElementRelationship == smdschema.Associative && len(atom.List.Keys) > 0:
			info.listType, info.listKeys = "map", atom.List.Keys
		case atom.List.ElementRelationship == smdschema.Associative:
			info.listType = "set"
		default:
			info.listType = "atomic"
		}
	case atom.Map != nil && f.Type.ElementRelationship != nil:
		info.mapType = mapType(*f.Type.ElementRelationship)
	case atom.Map != nil && f.Type.NamedType == nil:
		info.mapType = mapType(atom.Map.ElementRelationship)
	}
	return info
}

func mapType(r smdschema.ElementRelationship) string {
	switch r {
	case smdschema.Atomic:
		return "atomic"
	case smdschema.Separable:
		return "granular"
	}
	return ""
}
