package openapi

import (
	"reflect"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/util"
)

// modelNamer is implemented by every k8s.io/api and apimachinery type.
type modelNamer interface{ OpenAPIModelName() string }

// definitionName returns the OpenAPI definition name of a named Go type,
// e.g. io.k8s.api.core.v1.Pod.
func definitionName(t reflect.Type) string {
	if n, ok := reflect.Zero(t).Interface().(modelNamer); ok {
		return n.OpenAPIModelName()
	}
	if n, ok := reflect.New(t).Interface().(modelNamer); ok {
		return n.OpenAPIModelName()
	}
	return util.ToRESTFriendlyName(t.PkgPath() + "." + t.Name())
}

// groupCamel turns an API group into the word used in operation ids:
// "" → "Core", "apps" → "Apps", "rbac.authorization.k8s.io" →
// "RbacAuthorization".
func groupCamel(group string) string {
	if group == "" {
		return "Core"
	}
	group = strings.TrimSuffix(group, ".k8s.io")
	var b strings.Builder
	for _, part := range strings.FieldsFunc(group, func(r rune) bool { return r == '.' || r == '-' }) {
		b.WriteString(upperFirst(part))
	}
	return b.String()
}

// tag is the operation tag Kubernetes uses: "core_v1", "apps_v1".
func tag(gv schema.GroupVersion) string {
	g := groupCamel(gv.Group)
	return strings.ToLower(g[:1]) + g[1:] + "_" + gv.Version
}

// gvPrefix is the URL prefix of a group version: /api/v1 or /apis/apps/v1.
func gvPrefix(gv schema.GroupVersion) string {
	if gv.Group == "" {
		return "/api/" + gv.Version
	}
	return "/apis/" + gv.Group + "/" + gv.Version
}

// gvKey is the key of a group version in the v3 index: api/v1 or apis/apps/v1.
func gvKey(gv schema.GroupVersion) string {
	return strings.TrimPrefix(gvPrefix(gv), "/")
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
