package openapi

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	resourceapi "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/openapi3"
	"k8s.io/client-go/rest"
	explainv2 "k8s.io/kubectl/pkg/explain/v2"
	kopenapi "k8s.io/kubectl/pkg/util/openapi"
	"k8s.io/kubectl/pkg/validation"
	"k8s.io/utils/ptr"
)

var deploymentGVK = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}

// kubectlClient serves the documents over HTTP and returns the discovery
// client kubectl itself uses to fetch them.
func kubectlClient(t *testing.T) *discovery.DiscoveryClient {
	t.Helper()
	srv := httptest.NewServer(testBuilder(t))
	t.Cleanup(srv.Close)
	dc, err := discovery.NewDiscoveryClientForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return dc
}

type resourcesGetter struct{ r kopenapi.Resources }

func (g resourcesGetter) OpenAPISchema() (kopenapi.Resources, error) { return g.r, nil }

const goodDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: "25%"}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx
        ports: [{containerPort: 80}]
        resources: {limits: {cpu: 500m, memory: 128Mi}, requests: {cpu: 1}}
`

const badDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: three
  selector: {matchLabels: {app: web}}
  template:
    spec:
      containers:
      - name: web
        imagee: nginx
`

func TestKubectlValidatesWithV2(t *testing.T) {
	doc, err := kubectlClient(t).OpenAPISchema() // protobuf, as kubectl fetches it
	if err != nil {
		t.Fatalf("fetch v2: %v", err)
	}
	resources, err := kopenapi.NewOpenAPIData(doc)
	if err != nil {
		t.Fatalf("kubectl cannot load v2: %v", err)
	}
	v := validation.NewSchemaValidation(resourcesGetter{resources})
	if err := v.ValidateBytes([]byte(goodDeployment)); err != nil {
		t.Errorf("good deployment rejected: %v", err)
	}
	err = v.ValidateBytes([]byte(badDeployment))
	if err == nil {
		t.Fatalf("bad deployment accepted")
	}
	for _, want := range []string{"imagee", "replicas"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("validation error %q does not mention %s", err, want)
		}
	}
	consumes := resources.GetConsumes(deploymentGVK, "PATCH")
	if !strings.Contains(strings.Join(consumes, ","), "application/strategic-merge-patch+json") {
		t.Errorf("PATCH consumes %v, want strategic merge patch", consumes)
	}
}

func TestKubectlSeesFieldValidationSupport(t *testing.T) {
	verifier := resource.NewQueryParamVerifierV3(nil, kubectlClient(t).OpenAPIV3(), resource.QueryParamFieldValidation)
	for _, gvk := range []schema.GroupVersionKind{deploymentGVK, corev1.SchemeGroupVersion.WithKind("Pod"), corev1.SchemeGroupVersion.WithKind("Node")} {
		if err := verifier.HasSupport(gvk); err != nil {
			t.Errorf("%v: %v", gvk, err)
		}
	}
}

func TestKubectlExplain(t *testing.T) {
	client := kubectlClient(t).OpenAPIV3()
	for _, tc := range []struct {
		gvr    schema.GroupVersionResource
		fields []string
		want   []string
	}{
		{appsv1.SchemeGroupVersion.WithResource("deployments"), []string{"spec", "replicas"},
			[]string{"KIND:       Deployment", "FIELD: replicas <integer>", "Number of desired pods"}},
		{corev1.SchemeGroupVersion.WithResource("pods"), []string{"spec", "containers"},
			[]string{"KIND:       Pod", "FIELD: containers <[]Container>", "name\t<string> -required-"}},
		{corev1.SchemeGroupVersion.WithResource("nodes"), nil, []string{"KIND:       Node", "metadata\t<ObjectMeta>"}},
	} {
		var out bytes.Buffer
		if err := explainv2.PrintModelDescription(tc.fields, &out, client, tc.gvr, false, 0, "plaintext"); err != nil {
			t.Errorf("explain %v %v: %v", tc.gvr, tc.fields, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("explain %v %v lacks %q:\n%s", tc.gvr, tc.fields, w, out.String())
			}
		}
	}
}

// TestKubectlApplyPatch builds the strategic merge patch the way
// client-side apply does from the v3 document.
func TestKubectlApplyPatch(t *testing.T) {
	root := openapi3.NewRoot(kubectlClient(t).OpenAPIV3())
	gvSpec, err := root.GVSpec(deploymentGVK.GroupVersion())
	if err != nil {
		t.Fatal(err)
	}
	for path, item := range gvSpec.Paths.Paths {
		if item.Patch == nil {
			continue
		}
		var gvk map[string]string
		if err := item.Patch.Extensions.GetObject("x-kubernetes-group-version-kind", &gvk); err != nil {
			t.Fatal(err)
		}
		if gvk["kind"] == "Deployment" && item.Patch.RequestBody.Content["application/strategic-merge-patch+json"] == nil {
			t.Errorf("patch %s does not take strategic merge patches", path)
		}
	}
	var meta strategicpatch.LookupPatchMeta
	for _, s := range gvSpec.Components.Schemas {
		var gvks []map[string]string
		if s.Extensions.GetObject("x-kubernetes-group-version-kind", &gvks) == nil && len(gvks) == 1 && gvks[0]["kind"] == "Deployment" {
			meta = strategicpatch.PatchMetaFromOpenAPIV3{Schema: s, SchemaList: gvSpec.Components.Schemas}
		}
	}
	if meta == nil {
		t.Fatal("no schema with the Deployment GVK")
	}
	original := deploymentJSON(t, "a:1", "b:1")
	modified := deploymentJSON(t, "a:2", "b:1")
	patch, err := strategicpatch.CreateThreeWayMergePatch(original, modified, original, meta, false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(patch), `"$setElementOrder/containers"`) || !strings.Contains(string(patch), `"name":"a"`) {
		t.Errorf("patch does not merge containers by name: %s", patch)
	}
}

func deploymentJSON(t *testing.T, containers ...string) []byte {
	t.Helper()
	d := appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}}
	for _, c := range containers {
		name, image, _ := strings.Cut(c, ":")
		d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, corev1.Container{Name: name, Image: image})
	}
	out, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTypeConverter checks the definitions are usable by server-side apply.
func TestTypeConverter(t *testing.T) {
	tc, err := managedfields.NewTypeConverter(testBuilder(t).Definitions(), false)
	if err != nil {
		t.Fatalf("NewTypeConverter: %v", err)
	}
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Strategy: appsv1.DeploymentStrategy{RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: ptr.To(intstr.FromInt32(1))}},
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				Containers: []corev1.Container{{
					Name: "web", Image: "nginx", Ports: []corev1.ContainerPort{{ContainerPort: 80}, {ContainerPort: 81}},
					Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resourceapi.MustParse("500m")}},
				}},
			}},
		},
	}
	typed, err := tc.ObjectToTyped(d)
	if err != nil {
		t.Fatalf("ObjectToTyped: %v", err)
	}
	set, err := typed.ToFieldSet()
	if err != nil {
		t.Fatal(err)
	}
	// Ports are keyed by containerPort and the defaulted protocol.
	for _, want := range []string{`ports[containerPort=81,protocol="TCP"]`, ".rollingUpdate.maxSurge", ".resources.limits.cpu"} {
		if s := set.String(); !strings.Contains(s, want) {
			t.Errorf("field set lacks %s:\n%s", want, s)
		}
	}
}
