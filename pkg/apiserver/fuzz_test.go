package apiserver

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugcluster/tug/pkg/apiserver/registry"
)

// clientError fails the test unless err is a Status error with a 4xx code:
// bad input must never look like a server failure.
func clientError(t *testing.T, err error) {
	t.Helper()
	var se apierrors.APIStatus
	if !errors.As(err, &se) {
		t.Fatalf("error is not a Status: %v", err)
	}
	if c := se.Status().Code; c < 400 || c > 499 {
		t.Fatalf("bad input gave code %d: %v", c, err)
	}
}

func testCodecs(t testing.TB) codecs {
	s, err := registry.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	return newCodecs(s)
}

var contentTypes = []string{"application/json", "application/yaml", protobufType, "text/plain"}

func FuzzDecodeBody(f *testing.F) {
	f.Add(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i"}]}}`, uint8(0))
	f.Add("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n", uint8(1))
	f.Add(`{"apiVersion":"apps/v1","kind":"Deployment"}`, uint8(0))
	f.Add(`{"metadata":{"name":1}}`, uint8(0))
	f.Add("k8s\x00\x0a\x02", uint8(2))
	f.Add(`{"spec":{"containers":[{"resources":{"limits":{"cpu":"1x"}}}]}}`, uint8(0))
	c := testCodecs(f)
	want := corev1.SchemeGroupVersion.WithKind("Pod")
	f.Fuzz(func(t *testing.T, body string, ct uint8) {
		res, err := c.decode(contentTypes[int(ct)%len(contentTypes)], []byte(body), want, &corev1.Pod{})
		if err != nil {
			clientError(t, err)
			return
		}
		if _, ok := res.obj.(*corev1.Pod); !ok {
			t.Fatalf("decoded %T, want *v1.Pod", res.obj)
		}
	})
}

func FuzzPatch(f *testing.F) {
	f.Add(`{"spec":{"replicas":3}}`, uint8(1))
	f.Add(`[{"op":"replace","path":"/spec/replicas","value":2}]`, uint8(0))
	f.Add(`[{"op":"test","path":"/spec/replicas","value":9}]`, uint8(0))
	f.Add(`{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"x"}]}}}}`, uint8(2))
	f.Add(`{"spec":{"template":{"spec":{"containers":[{"$patch":"delete","name":"web"}]}}}}`, uint8(2))
	f.Add(`{"metadata":{"$setElementOrder/finalizers":["a"]}}`, uint8(2))
	f.Add(`{"spec":{"replicas":"x"}}`, uint8(1))
	c := testCodecs(f)
	pts := []types.PatchType{types.JSONPatchType, types.MergePatchType, types.StrategicMergePatchType}
	replicas := int32(1)
	current := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Finalizers: []string{"a"}},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "web", Image: "web:v1"}, {Name: "side", Image: "side:v1"}}}}},
	}
	f.Fuzz(func(t *testing.T, patch string, kind uint8) {
		pt := pts[int(kind)%len(pts)]
		if err := checkPatchSyntax(pt, []byte(patch)); err != nil {
			clientError(t, err)
			return
		}
		out, err := applyPatch(pt, []byte(patch), current, &appsv1.Deployment{})
		if err != nil {
			clientError(t, err)
			return
		}
		if _, err := c.decode("application/json", out, appsv1.SchemeGroupVersion.WithKind("Deployment"), &appsv1.Deployment{}); err != nil {
			clientError(t, err)
		}
	})
}

func FuzzParseRequest(f *testing.F) {
	for _, p := range []string{"/api/v1/namespaces/ns/pods/p/status", "/apis/apps/v1/watch/namespaces/x/deployments",
		"/api", "/apis/apps", "/api/v1/namespaces/ns", "//api//v1/", "/apis/a/b/c/d/e/f/g"} {
		f.Add(p, "GET")
	}
	f.Fuzz(func(t *testing.T, path, method string) {
		u, err := url.Parse("http://x" + path)
		if err != nil || !strings.HasPrefix(path, "/") {
			return
		}
		info, ok := parseRequest(&http.Request{Method: method, URL: u})
		if ok && info.APIPrefix != "api" && info.APIPrefix != "apis" {
			t.Fatalf("parsed prefix %q", info.APIPrefix)
		}
	})
}
