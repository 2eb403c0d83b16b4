package openapi

import (
	"reflect"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// param is one operation or path parameter.
type param struct {
	name, in, description string
	typ                   string // string, integer or boolean
	required              bool
}

// optionParams turns the fields of an options struct (metav1.ListOptions,
// CreateOptions...) into query parameters, described by the struct's
// SwaggerDoc, sorted by name. Struct-valued fields cannot be query
// parameters and are left out, as are the names in skip.
func optionParams(opts any, skip ...string) []param {
	t := reflect.TypeOf(opts)
	doc := opts.(swaggerDoc).SwaggerDoc()
	var out []param
	for i := range t.NumField() {
		f := t.Field(i)
		name, _ := parseJSONTag(f.Tag.Get("json"))
		if f.Anonymous || name == "" || name == "-" || slices.Contains(skip, name) {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		var typ string
		switch ft.Kind() {
		case reflect.String, reflect.Slice:
			typ = "string"
		case reflect.Bool:
			typ = "boolean"
		case reflect.Int, reflect.Int32, reflect.Int64:
			typ = "integer"
		default:
			continue
		}
		out = append(out, param{name: name, in: "query", description: doc[name], typ: typ})
	}
	slices.SortFunc(out, func(a, b param) int { return strings.Compare(a.name, b.name) })
	return out
}

// queryParams holds the query parameters of each kind of operation.
type queryParams struct {
	list, create, update, patch, delete, deleteCollection []param
}

func newQueryParams() queryParams {
	list := optionParams(metav1.ListOptions{})
	del := optionParams(metav1.DeleteOptions{})
	collection := append(slices.Clone(del), optionParams(metav1.ListOptions{}, "watch", "allowWatchBookmarks")...)
	slices.SortFunc(collection, func(a, b param) int { return strings.Compare(a.name, b.name) })
	return queryParams{
		list:             list,
		create:           optionParams(metav1.CreateOptions{}),
		update:           optionParams(metav1.UpdateOptions{}),
		patch:            optionParams(metav1.PatchOptions{}),
		delete:           del,
		deleteCollection: collection,
	}
}

var prettyParam = param{name: "pretty", in: "query", typ: "string",
	description: "If 'true', then the output is pretty printed."}

var namespaceParam = param{name: "namespace", in: "path", typ: "string", required: true,
	description: "object name and auth scope, such as for teams and projects"}

func nameParam(kind string) param {
	return param{name: "name", in: "path", typ: "string", required: true, description: "name of the " + kind}
}
