package openapi

import (
	"encoding/json"
	"fmt"

	"k8s.io/kube-openapi/pkg/validation/spec"
)

const bearerToken = "BearerToken"

// renderV2 builds the Swagger 2.0 document of every route.
func renderV2(routes []route, defs map[string]*spec.Schema) ([]byte, error) {
	doc := spec.Swagger{SwaggerProps: spec.SwaggerProps{
		Swagger:     "2.0",
		Info:        &spec.Info{InfoProps: spec.InfoProps{Title: "Kubernetes", Version: "unversioned"}},
		Paths:       &spec.Paths{Paths: make(map[string]spec.PathItem, len(routes))},
		Definitions: make(spec.Definitions, len(defs)),
		SecurityDefinitions: spec.SecurityDefinitions{bearerToken: &spec.SecurityScheme{
			SecuritySchemeProps: spec.SecuritySchemeProps{
				Type: "apiKey", Name: "authorization", In: "header", Description: "Bearer Token authentication",
			},
		}},
		Security: []map[string][]string{{bearerToken: {}}},
	}}
	for name, s := range defs {
		doc.Definitions[name] = *s
	}
	for _, r := range routes {
		item := spec.PathItem{}
		for _, p := range r.params {
			item.Parameters = append(item.Parameters, v2Param(p))
		}
		for _, o := range r.ops {
			op := v2Operation(o)
			switch o.method {
			case "get":
				item.Get = op
			case "post":
				item.Post = op
			case "put":
				item.Put = op
			case "patch":
				item.Patch = op
			case "delete":
				item.Delete = op
			default:
				return nil, fmt.Errorf("route %s: unknown method %s", r.path, o.method)
			}
		}
		doc.Paths.Paths[r.path] = item
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode openapi v2: %w", err)
	}
	return out, nil
}

func v2Param(p param) spec.Parameter {
	out := spec.Parameter{ParamProps: spec.ParamProps{Name: p.name, In: p.in, Description: p.description, Required: p.required}}
	out.Type = p.typ
	out.UniqueItems = true
	return out
}

func v2Operation(o operation) *spec.Operation {
	op := &spec.Operation{OperationProps: spec.OperationProps{
		ID: o.id, Description: o.description, Tags: []string{o.tag},
		Consumes: o.consumes, Produces: o.produces, Schemes: []string{"https"},
		Responses: &spec.Responses{ResponsesProps: spec.ResponsesProps{StatusCodeResponses: map[int]spec.Response{}}},
	}}
	if o.body != "" {
		op.Parameters = append(op.Parameters, spec.Parameter{ParamProps: spec.ParamProps{
			Name: "body", In: "body", Required: o.bodyNeeded, Schema: spec.RefSchema(refPrefixV2 + o.body),
		}})
	}
	for _, p := range o.params {
		op.Parameters = append(op.Parameters, v2Param(p))
	}
	for _, r := range o.responses {
		resp := spec.Response{ResponseProps: spec.ResponseProps{Description: r.description}}
		if r.def != "" {
			resp.Schema = spec.RefSchema(refPrefixV2 + r.def)
		}
		op.Responses.StatusCodeResponses[r.code] = resp
	}
	addOperationExtensions(&op.VendorExtensible, o)
	return op
}

// addOperationExtensions sets x-kubernetes-action and the single
// x-kubernetes-group-version-kind object of an operation.
func addOperationExtensions(ext *spec.VendorExtensible, o operation) {
	if o.action != "" {
		ext.AddExtension("x-kubernetes-action", o.action)
	}
	if o.gvk != nil {
		ext.AddExtension("x-kubernetes-group-version-kind", map[string]any{
			"group": o.gvk.Group, "version": o.gvk.Version, "kind": o.gvk.Kind,
		})
	}
}
