package openapi

import (
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

const refPrefixV3 = "#/components/schemas/"

// toV3 converts the v2-style definitions to OpenAPI v3 component schemas:
// references point into components, a reference with siblings
// (description, default, extensions) is wrapped in a one-element allOf,
// and multi-type scalars get their oneOf alternatives.
func toV3(defs map[string]*spec.Schema, oneOf map[string][]string) map[string]*spec.Schema {
	out := make(map[string]*spec.Schema, len(defs))
	for name, s := range defs {
		c := v3Schema(*s)
		if alts, ok := oneOf[name]; ok {
			c.Type = nil
			for _, t := range alts {
				c.OneOf = append(c.OneOf, spec.Schema{SchemaProps: spec.SchemaProps{Type: spec.StringOrArray{t}}})
			}
		}
		out[name] = &c
	}
	return out
}

func v3Schema(s spec.Schema) spec.Schema {
	if ref := s.Ref.String(); ref != "" {
		target := spec.MustCreateRef(refPrefixV3 + strings.TrimPrefix(ref, refPrefixV2))
		if s.Description == "" && s.Default == nil && len(s.Extensions) == 0 {
			return spec.Schema{SchemaProps: spec.SchemaProps{Ref: target}}
		}
		return spec.Schema{
			SchemaProps: spec.SchemaProps{
				Description: s.Description, Default: s.Default,
				AllOf: []spec.Schema{{SchemaProps: spec.SchemaProps{Ref: target}}},
			},
			VendorExtensible: s.VendorExtensible,
		}
	}
	if s.Properties != nil {
		props := make(map[string]spec.Schema, len(s.Properties))
		for k, p := range s.Properties {
			props[k] = v3Schema(p)
		}
		s.Properties = props
	}
	if s.Items != nil && s.Items.Schema != nil {
		item := v3Schema(*s.Items.Schema)
		s.Items = &spec.SchemaOrArray{Schema: &item}
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
		val := v3Schema(*s.AdditionalProperties.Schema)
		s.AdditionalProperties = &spec.SchemaOrBool{Allows: true, Schema: &val}
	}
	return s
}

// refsOf adds to seen every definition reachable from s.
func refsOf(s *spec.Schema, defs map[string]*spec.Schema, seen map[string]bool) {
	if s == nil {
		return
	}
	if ref := s.Ref.String(); ref != "" {
		name := strings.TrimPrefix(strings.TrimPrefix(ref, refPrefixV3), refPrefixV2)
		if !seen[name] {
			seen[name] = true
			refsOf(defs[name], defs, seen)
		}
	}
	for i := range s.AllOf {
		refsOf(&s.AllOf[i], defs, seen)
	}
	for _, p := range s.Properties {
		refsOf(&p, defs, seen)
	}
	if s.Items != nil {
		refsOf(s.Items.Schema, defs, seen)
	}
	if s.AdditionalProperties != nil {
		refsOf(s.AdditionalProperties.Schema, defs, seen)
	}
}

// renderV3 builds the v3 document of one group version: its routes and the
// component schemas they reach, plus the given extra roots.
func renderV3(routes []route, defs map[string]*spec.Schema, roots []string) ([]byte, error) {
	seen := map[string]bool{}
	for _, name := range roots {
		seen[name] = true
		refsOf(defs[name], defs, seen)
	}
	doc := spec3.OpenAPI{
		Version: "3.0.0",
		Info:    &spec.Info{InfoProps: spec.InfoProps{Title: "Kubernetes", Version: "unversioned"}},
		Paths:   &spec3.Paths{Paths: make(map[string]*spec3.Path, len(routes))},
		Components: &spec3.Components{
			Schemas: map[string]*spec.Schema{},
			SecuritySchemes: spec3.SecuritySchemes{bearerToken: &spec3.SecurityScheme{
				SecuritySchemeProps: spec3.SecuritySchemeProps{
					Type: "apiKey", Name: "authorization", In: "header", Description: "Bearer Token authentication",
				},
			}},
		},
	}
	for _, r := range routes {
		p := &spec3.Path{}
		for _, prm := range r.params {
			p.Parameters = append(p.Parameters, v3Param(prm))
		}
		for _, o := range r.ops {
			for _, resp := range o.responses {
				markRef(resp.def, defs, seen)
			}
			markRef(o.body, defs, seen)
			op := v3Operation(o)
			switch o.method {
			case "get":
				p.Get = op
			case "post":
				p.Post = op
			case "put":
				p.Put = op
			case "patch":
				p.Patch = op
			case "delete":
				p.Delete = op
			default:
				return nil, fmt.Errorf("route %s: unknown method %s", r.path, o.method)
			}
		}
		doc.Paths.Paths[r.path] = p
	}
	for name := range seen {
		if s, ok := defs[name]; ok {
			doc.Components.Schemas[name] = s
		}
	}
	out, err := json.Marshal(&doc)
	if err != nil {
		return nil, fmt.Errorf("encode openapi v3: %w", err)
	}
	return out, nil
}

func markRef(name string, defs map[string]*spec.Schema, seen map[string]bool) {
	if name != "" && !seen[name] {
		seen[name] = true
		refsOf(defs[name], defs, seen)
	}
}

func v3Param(p param) *spec3.Parameter {
	return &spec3.Parameter{ParameterProps: spec3.ParameterProps{
		Name: p.name, In: p.in, Description: p.description, Required: p.required,
		Schema: &spec.Schema{SchemaProps: spec.SchemaProps{Type: spec.StringOrArray{p.typ}, UniqueItems: true}},
	}}
}

func v3Content(def string, types []string) map[string]*spec3.MediaType {
	content := make(map[string]*spec3.MediaType, len(types))
	for _, t := range types {
		content[t] = &spec3.MediaType{MediaTypeProps: spec3.MediaTypeProps{Schema: spec.RefSchema(refPrefixV3 + def)}}
	}
	return content
}

func v3Operation(o operation) *spec3.Operation {
	op := &spec3.Operation{OperationProps: spec3.OperationProps{
		Tags: []string{o.tag}, Description: o.description, OperationId: o.id,
		Responses: &spec3.Responses{ResponsesProps: spec3.ResponsesProps{StatusCodeResponses: map[int]*spec3.Response{}}},
	}}
	for _, p := range o.params {
		op.Parameters = append(op.Parameters, v3Param(p))
	}
	if o.body != "" {
		op.RequestBody = &spec3.RequestBody{RequestBodyProps: spec3.RequestBodyProps{
			Content: v3Content(o.body, o.consumes), Required: o.bodyNeeded,
		}}
	}
	for _, r := range o.responses {
		resp := &spec3.Response{ResponseProps: spec3.ResponseProps{Description: r.description}}
		if r.def != "" {
			resp.Content = v3Content(r.def, o.produces)
		}
		op.Responses.StatusCodeResponses[r.code] = resp
	}
	addOperationExtensions(&op.VendorExtensible, o)
	return op
}
