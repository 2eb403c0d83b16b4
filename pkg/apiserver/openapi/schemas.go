package openapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"k8s.io/kube-openapi/pkg/validation/spec"
)

// Interfaces the API types implement to describe themselves.
type (
	swaggerDoc   interface{ SwaggerDoc() map[string]string }
	schemaType   interface{ OpenAPISchemaType() []string }
	schemaFormat interface{ OpenAPISchemaFormat() string }
	v3OneOf      interface{ OpenAPIV3OneOfTypes() []string }
)

const refPrefixV2 = "#/definitions/"

// definitions derives OpenAPI definitions from Go types by reflection.
// Schemas use Swagger 2.0 references (#/definitions/NAME); the v3 renderer
// rewrites them.
type definitions struct {
	sem    *semantics
	schema map[string]*spec.Schema
	byType map[reflect.Type]string
	// oneOf keeps the v3 alternatives of scalar types that accept several
	// JSON types (IntOrString, Quantity); v2 cannot express them.
	oneOf map[string][]string
}

func newDefinitions(sem *semantics) *definitions {
	return &definitions{
		sem:    sem,
		schema: map[string]*spec.Schema{},
		byType: map[reflect.Type]string{},
		oneOf:  map[string][]string{},
	}
}

// add defines the named type t (and everything it refers to) and returns
// its definition name.
func (d *definitions) add(t reflect.Type) (string, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if name, ok := d.byType[t]; ok {
		return name, nil
	}
	if t.Name() == "" {
		return "", fmt.Errorf("type %v has no name", t)
	}
	name := definitionName(t)
	if other, ok := d.schema[name]; ok && other != nil {
		return "", fmt.Errorf("types %v and another type share definition name %s", t, name)
	}
	d.byType[t] = name
	s := &spec.Schema{}
	d.schema[name] = s
	zero := reflect.Zero(t).Interface()
	if doc, ok := zero.(swaggerDoc); ok {
		s.Description = doc.SwaggerDoc()[""]
	}
	switch {
	case implements[schemaType](t):
		st := zero.(schemaType).OpenAPISchemaType()
		s.Type = spec.StringOrArray(st)
		if f, ok := zero.(schemaFormat); ok {
			s.Format = f.OpenAPISchemaFormat()
		}
		if o, ok := zero.(v3OneOf); ok {
			d.oneOf[name] = o.OpenAPIV3OneOfTypes()
		}
	case implements[json.Marshaler](t) || t.Kind() != reflect.Struct:
		// Custom encodings (FieldsV1, RawExtension) and non-struct named
		// types carry free-form JSON objects.
		s.Type = spec.StringOrArray{"object"}
	default:
		if err := d.addProperties(s, name, t); err != nil {
			return "", err
		}
		s.Type = spec.StringOrArray{"object"}
		if d.sem.typeAtomic(name) {
			s.AddExtension("x-kubernetes-map-type", "atomic")
		}
	}
	return name, nil
}

func implements[I any](t reflect.Type) bool {
	it := reflect.TypeFor[I]()
	return t.Implements(it) || reflect.PointerTo(t).Implements(it)
}

// addProperties adds the fields of struct t to s; inline embedded structs
// contribute their fields. defName is the definition the fields end up in.
func (d *definitions) addProperties(s *spec.Schema, defName string, t reflect.Type) error {
	var doc map[string]string
	if sd, ok := reflect.Zero(t).Interface().(swaggerDoc); ok {
		doc = sd.SwaggerDoc()
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts := parseJSONTag(f.Tag.Get("json"))
		if name == "-" {
			continue
		}
		if name == "" && f.Anonymous {
			inner := f.Type
			for inner.Kind() == reflect.Pointer {
				inner = inner.Elem()
			}
			if inner.Kind() == reflect.Struct {
				if err := d.addProperties(s, defName, inner); err != nil {
					return err
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		prop, err := d.fieldSchema(f.Type)
		if err != nil {
			return fmt.Errorf("%s.%s: %w", defName, name, err)
		}
		prop.Description = doc[name]
		d.addFieldExtensions(&prop, defName, name, f)
		if s.Properties == nil {
			s.Properties = map[string]spec.Schema{}
		}
		s.Properties[name] = prop
		if requiredField(f.Type, opts) {
			s.Required = append(s.Required, name)
		}
	}
	return nil
}

// addFieldExtensions adds patch strategy, list and map semantics and the
// default of one field.
func (d *definitions) addFieldExtensions(prop *spec.Schema, defName, name string, f reflect.StructField) {
	strategy, mergeKey := f.Tag.Get("patchStrategy"), f.Tag.Get("patchMergeKey")
	if strategy != "" {
		prop.AddExtension("x-kubernetes-patch-strategy", strategy)
	}
	if mergeKey != "" {
		prop.AddExtension("x-kubernetes-patch-merge-key", mergeKey)
	}
	info := d.sem.field(defName, name)
	if info.def != nil {
		prop.Default = info.def
	}
	if !info.known && isList(f.Type) && strings.Contains(strategy, "merge") {
		// Not in the schema: derive list semantics from the patch strategy.
		if mergeKey != "" {
			info.listType, info.listKeys = "map", []string{mergeKey}
		} else {
			info.listType = "set"
		}
	}
	if info.listType != "" && isList(f.Type) {
		prop.AddExtension("x-kubernetes-list-type", info.listType)
		if len(info.listKeys) > 0 {
			keys := make([]any, len(info.listKeys))
			for i, k := range info.listKeys {
				keys[i] = k
			}
			prop.AddExtension("x-kubernetes-list-map-keys", keys)
		}
	}
	if info.mapType != "" {
		prop.AddExtension("x-kubernetes-map-type", info.mapType)
	}
}

func isList(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && t.Elem().Kind() != reflect.Uint8
}

// requiredField marks a field required only when its JSON form is always
// present and its zero value is not a meaningful value: strings, lists and
// maps without omitempty. Numbers, booleans, structs and pointers stay
// optional so valid manifests are never rejected.
func requiredField(t reflect.Type, opts string) bool {
	for _, o := range strings.Split(opts, ",") {
		if o == "omitempty" || o == "omitzero" || o == "inline" {
			return false
		}
	}
	switch t.Kind() {
	case reflect.String, reflect.Map:
		return true
	case reflect.Slice:
		return t.Elem().Kind() != reflect.Uint8
	}
	return false
}

// fieldSchema returns the schema of a field of type t: a reference for
// named structs and self-describing types, an inline schema otherwise.
func (d *definitions) fieldSchema(t reflect.Type) (spec.Schema, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Name() != "" && t.PkgPath() != "" &&
		(t.Kind() == reflect.Struct || implements[schemaType](t) || implements[json.Marshaler](t)) {
		name, err := d.add(t)
		if err != nil {
			return spec.Schema{}, err
		}
		return *spec.RefSchema(refPrefixV2 + name), nil
	}
	switch t.Kind() {
	case reflect.String:
		return *spec.StringProperty(), nil
	case reflect.Bool:
		return *spec.BoolProperty(), nil
	case reflect.Int32, reflect.Uint16, reflect.Int16, reflect.Int8, reflect.Uint8:
		return *spec.Int32Property(), nil
	case reflect.Int, reflect.Int64, reflect.Uint, reflect.Uint32, reflect.Uint64:
		return *spec.Int64Property(), nil
	case reflect.Float32:
		return *spec.Float32Property(), nil
	case reflect.Float64:
		return *spec.Float64Property(), nil
	case reflect.Interface:
		return spec.Schema{SchemaProps: spec.SchemaProps{Type: spec.StringOrArray{"object"}}}, nil
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return spec.Schema{SchemaProps: spec.SchemaProps{Type: spec.StringOrArray{"string"}, Format: "byte"}}, nil
		}
		item, err := d.fieldSchema(t.Elem())
		if err != nil {
			return spec.Schema{}, err
		}
		return *spec.ArrayProperty(&item), nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return spec.Schema{}, fmt.Errorf("map key %v is not a string", t.Key())
		}
		val, err := d.fieldSchema(t.Elem())
		if err != nil {
			return spec.Schema{}, err
		}
		return *spec.MapProperty(&val), nil
	case reflect.Struct:
		if t.Name() == "" {
			return spec.Schema{}, fmt.Errorf("anonymous struct types are not supported")
		}
		name, err := d.add(t)
		if err != nil {
			return spec.Schema{}, err
		}
		return *spec.RefSchema(refPrefixV2 + name), nil
	}
	return spec.Schema{}, fmt.Errorf("unsupported kind %v", t.Kind())
}

func parseJSONTag(tag string) (name, opts string) {
	name, opts, _ = strings.Cut(tag, ",")
	return name, opts
}
