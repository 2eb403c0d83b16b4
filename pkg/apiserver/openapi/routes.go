package openapi

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Definition names of the meta types every document refers to.
const (
	defStatus          = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"
	defDeleteOptions   = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"
	defWatchEvent      = "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent"
	defPatch           = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
	defAPIResourceList = "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList"
	defScale           = "io.k8s.api.autoscaling.v1.Scale"
)

var (
	patchTypes = []string{
		"application/json-patch+json",
		"application/merge-patch+json",
		"application/strategic-merge-patch+json",
		"application/apply-patch+yaml",
	}
	mediaTypes     = []string{"application/json", "application/yaml"}
	listMediaTypes = []string{"application/json", "application/yaml", "application/json;stream=watch"}
)

// route is one URL path with its operations, independent of the OpenAPI
// version it is rendered in.
type route struct {
	path   string
	params []param // path-level parameters
	ops    []operation
}

// operation is one HTTP method on a route.
type operation struct {
	method      string // get, post, put, patch, delete
	id          string
	tag         string
	description string
	action      string // x-kubernetes-action; empty for discovery
	gvk         *schema.GroupVersionKind
	params      []param
	body        string // definition name of the request body
	bodyNeeded  bool
	consumes    []string
	produces    []string
	responses   []response
}

type response struct {
	code        int
	description string
	def         string
}

func okResponses(def string, codes ...int) []response {
	text := map[int]string{200: "OK", 201: "Created", 202: "Accepted"}
	var out []response
	for _, c := range codes {
		out = append(out, response{code: c, description: text[c], def: def})
	}
	return append(out, response{code: 401, description: "Unauthorized"})
}

// discoveryRoute is GET <prefix>/ answering the APIResourceList.
func discoveryRoute(gv schema.GroupVersion) route {
	return route{
		path: gvPrefix(gv) + "/",
		ops: []operation{{
			method: "get", id: "get" + groupCamel(gv.Group) + upperFirst(gv.Version) + "APIResources", tag: tag(gv),
			description: "get available resources", consumes: mediaTypes, produces: mediaTypes,
			responses: okResponses(defAPIResourceList, 200),
		}},
	}
}

// resourceNames carries what the route builder needs about one resource.
type resourceNames struct {
	gv         schema.GroupVersion
	plural     string
	kind       string
	namespaced bool
	def, list  string // definition names of the object and its list
	status     bool
	scale      bool
}

// resourceRoutes lists the paths of one resource: collection, item and
// the status and scale subresources.
func resourceRoutes(r resourceNames, q queryParams) []route {
	gvk := r.gv.WithKind(r.kind)
	scope, base := "", gvPrefix(r.gv)
	if r.namespaced {
		scope, base = "Namespaced", base+"/namespaces/{namespace}"
	}
	idSuffix := groupCamel(r.gv.Group) + upperFirst(r.gv.Version)
	op := func(method, verb, action, description string, subresource string) operation {
		return operation{
			method: method, action: action, gvk: &gvk, description: description, tag: tag(r.gv),
			id: verb + idSuffix + scope + r.kind + upperFirst(subresource), consumes: []string{"*/*"}, produces: mediaTypes,
		}
	}
	scopeParams := []param{prettyParam}
	itemParams := []param{nameParam(r.kind), prettyParam}
	if r.namespaced {
		scopeParams = []param{namespaceParam, prettyParam}
		itemParams = []param{nameParam(r.kind), namespaceParam, prettyParam}
	}

	list := op("get", "list", "list", "list or watch objects of kind "+r.kind, "")
	list.params, list.produces, list.responses = q.list, listMediaTypes, okResponses(r.list, 200)
	create := op("post", "create", "post", "create "+article(r.kind)+" "+r.kind, "")
	create.params, create.body, create.bodyNeeded = q.create, r.def, true
	create.responses = okResponses(r.def, 200, 201, 202)
	delCollection := op("delete", "delete", "deletecollection", "delete collection of "+r.kind, "")
	delCollection.id = "delete" + idSuffix + "Collection" + scope + r.kind
	delCollection.params, delCollection.body = q.deleteCollection, defDeleteOptions
	delCollection.responses = okResponses(defStatus, 200)

	routes := []route{{path: base + "/" + r.plural, params: scopeParams, ops: []operation{list, create, delCollection}}}

	read := op("get", "read", "get", "read the specified "+r.kind, "")
	read.responses = okResponses(r.def, 200)
	del := op("delete", "delete", "delete", "delete "+article(r.kind)+" "+r.kind, "")
	del.params, del.body, del.responses = q.delete, defDeleteOptions, okResponses(defStatus, 200, 202)
	item := base + "/" + r.plural + "/{name}"
	routes = append(routes, route{path: item, params: itemParams,
		ops: []operation{read, replaceOp(op, q, r.kind, "", r.def), patchOp(op, q, r.kind, "", r.def), del}})

	if r.namespaced {
		all := op("get", "list", "list", "list or watch objects of kind "+r.kind, "")
		all.id = "list" + idSuffix + r.kind + "ForAllNamespaces"
		all.params, all.produces, all.responses = q.list, listMediaTypes, okResponses(r.list, 200)
		routes = append(routes, route{path: gvPrefix(r.gv) + "/" + r.plural, params: []param{prettyParam}, ops: []operation{all}})
	}
	if r.status {
		routes = append(routes, subresourceRoute(op, q, item+"/status", itemParams, r.kind, "status", r.def, &gvk))
	}
	if r.scale {
		scaleGVK := schema.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}
		routes = append(routes, subresourceRoute(op, q, item+"/scale", itemParams, r.kind, "scale", defScale, &scaleGVK))
	}
	return routes
}

type opFunc func(method, verb, action, description, subresource string) operation

func subresourceRoute(op opFunc, q queryParams, path string, params []param, kind, sub, def string, gvk *schema.GroupVersionKind) route {
	read := op("get", "read", "get", "read "+sub+" of the specified "+kind, sub)
	read.responses = okResponses(def, 200)
	ops := []operation{read, replaceOp(op, q, kind, sub, def), patchOp(op, q, kind, sub, def)}
	for i := range ops {
		ops[i].gvk = gvk
	}
	return route{path: path, params: params, ops: ops}
}

func replaceOp(op opFunc, q queryParams, kind, sub, def string) operation {
	o := op("put", "replace", "put", "replace "+withSub(sub)+"the specified "+kind, sub)
	o.params, o.body, o.bodyNeeded, o.responses = q.update, def, true, okResponses(def, 200, 201)
	return o
}

func patchOp(op opFunc, q queryParams, kind, sub, def string) operation {
	o := op("patch", "patch", "patch", "partially update "+withSub(sub)+"the specified "+kind, sub)
	o.params, o.body, o.bodyNeeded, o.consumes = q.patch, defPatch, true, patchTypes
	o.responses = okResponses(def, 200, 201)
	return o
}

func withSub(sub string) string {
	if sub == "" {
		return ""
	}
	return sub + " of "
}

func article(word string) string {
	if word != "" && (word[0] == 'A' || word[0] == 'E' || word[0] == 'I' || word[0] == 'O' || word[0] == 'U') {
		return "an"
	}
	return "a"
}
