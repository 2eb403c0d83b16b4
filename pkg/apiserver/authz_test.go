package apiserver

import (
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/tugcluster/tug/pkg/apiserver/rbac"
)

// requestAttributes describes requests as Kubernetes' RBAC sees them.
func TestRequestAttributes(t *testing.T) {
	for _, tc := range []struct {
		method, target string
		want           rbac.Attributes
	}{
		{"GET", "/api/v1/namespaces/ns/pods/p/exec?command=sh",
			rbac.Attributes{ResourceRequest: true, Verb: "create", Resource: "pods", Subresource: "exec", Name: "p", Namespace: "ns"}},
		{"GET", "/api/v1/namespaces/ns/pods/p/log",
			rbac.Attributes{ResourceRequest: true, Verb: "get", Resource: "pods", Subresource: "log", Name: "p", Namespace: "ns"}},
		{"GET", "/api/v1/namespaces/team",
			rbac.Attributes{ResourceRequest: true, Verb: "get", Resource: "namespaces", Name: "team", Namespace: "team"}},
		{"GET", "/apis/apps/v1/deployments?watch=true",
			rbac.Attributes{ResourceRequest: true, Verb: "watch", APIGroup: "apps", Resource: "deployments"}},
		{"GET", "/apis/apps/v1", rbac.Attributes{Verb: "get", Path: "/apis/apps/v1"}},
		{"HEAD", "/version", rbac.Attributes{Verb: "get", Path: "/version"}},
		{"POST", "/openid/v1/jwks", rbac.Attributes{Verb: "post", Path: "/openid/v1/jwks"}},
	} {
		if got := requestAttributes(httptest.NewRequest(tc.method, tc.target, nil)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %s = %+v\nwant %+v", tc.method, tc.target, got, tc.want)
		}
	}
}
