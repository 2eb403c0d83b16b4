package integration

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestAuthWhoAmIAndCanI covers what `kubectl auth whoami` and `kubectl auth
// can-i` post: answered for the caller, never stored.
func TestAuthWhoAmIAndCanI(t *testing.T) {
	ssr, err := cluster.client.AuthenticationV1().SelfSubjectReviews().Create(ctx(t), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create SelfSubjectReview: %v", err)
	}
	want := authenticationv1.UserInfo{Username: "admin", Groups: []string{"system:masters", "system:authenticated"}}
	if diff := cmp.Diff(want, ssr.Status.UserInfo); diff != "" {
		t.Errorf("whoami (-want +got):\n%s", diff)
	}

	ssar, err := cluster.client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx(t), &authorizationv1.SelfSubjectAccessReview{
		Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "create", Resource: "pods", Namespace: "default"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create SelfSubjectAccessReview: %v", err)
	}
	if !ssar.Status.Allowed {
		t.Errorf("can-i create pods: not allowed: %+v", ssar.Status)
	}
	_, err = cluster.client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx(t), &authorizationv1.SelfSubjectAccessReview{}, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) {
		t.Errorf("review without attributes: %v, want Invalid", err)
	}

	resp, body := rawRequest(t, "GET", "/apis/authentication.k8s.io/v1/selfsubjectreviews", "", nil)
	st := expectCode(t, resp, body, http.StatusMethodNotAllowed)
	if st.Message != "the server does not allow this method on the requested resource" {
		t.Errorf("list of a review: message %q", st.Message)
	}

	resp, body = rawRequest(t, "GET", "/apis/authorization.k8s.io/v1", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery of authorization.k8s.io/v1: HTTP %d: %s", resp.StatusCode, body)
	}
	groups, err := cluster.client.Discovery().ServerGroups()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range groups.Groups {
		names = append(names, g.Name)
	}
	for _, g := range []string{"authentication.k8s.io", "authorization.k8s.io"} {
		if !slices.Contains(names, g) {
			t.Errorf("discovery lacks group %s: %v", g, names)
		}
	}
	list, err := cluster.client.Discovery().ServerResourcesForGroupVersion("authentication.k8s.io/v1")
	if err != nil {
		t.Fatal(err)
	}
	var served []string
	for _, r := range list.APIResources {
		served = append(served, r.Name)
		if !slices.Equal(r.Verbs, metav1.Verbs{"create"}) {
			t.Errorf("%s verbs %v, want create only", r.Name, r.Verbs)
		}
	}
	if !slices.Equal(served, []string{"selfsubjectreviews", "tokenreviews"}) {
		t.Errorf("authentication.k8s.io/v1 resources = %+v", list.APIResources)
	}
}

// TestDecodeErrorsNameTheKind checks the 400 texts kubectl prints for a
// manifest with unknown fields (--validate=strict) or wrong field types.
func TestDecodeErrorsNameTheKind(t *testing.T) {
	ns := newNamespace(t)
	base := "/api/v1/namespaces/" + ns + "/configmaps"
	cases := []struct{ query, body, want string }{
		{"?fieldValidation=Strict", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"foo":1,"bar":2}`,
			`ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "foo", unknown field "bar"`},
		{"", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b"},"data":"x"}`,
			`ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal string into Go struct field ConfigMap.data of type map[string]string`},
		{"", `{"apiVersion":"v1","kind":"Conf`,
			`the object provided is unrecognized (must be of type ConfigMap): `},
	}
	for _, c := range cases {
		resp, body := rawRequest(t, "POST", base+c.query, "application/json", []byte(c.body))
		st := expectCode(t, resp, body, http.StatusBadRequest)
		if !strings.HasPrefix(st.Message, c.want) {
			t.Errorf("POST %s: message %q, want prefix %q", c.body, st.Message, c.want)
		}
	}
}

// TestCreatedJobAndPodLookLikeKubernetes covers defaults users see in
// `kubectl get jobs --show-labels` and `kubectl describe pod`.
func TestCreatedJobAndPodLookLikeKubernetes(t *testing.T) {
	ns := newNamespace(t)
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "once"},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: "c", Image: "busybox"}},
		}}},
	}
	created, err := cluster.client.BatchV1().Jobs(ns).Create(ctx(t), job, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create job: %v", err)
	}
	if got := created.Labels["batch.kubernetes.io/job-name"]; got != "once" {
		t.Errorf("job labels %v, want the template's generated labels", created.Labels)
	}

	pod, err := cluster.client.CoreV1().Pods(ns).Create(ctx(t), pod("tol", "", nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create pod: %v", err)
	}
	var keys []string
	for _, tol := range pod.Spec.Tolerations {
		if tol.Effect == corev1.TaintEffectNoExecute && tol.TolerationSeconds != nil && *tol.TolerationSeconds == 300 {
			keys = append(keys, tol.Key)
		}
	}
	if diff := cmp.Diff([]string{corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable}, keys); diff != "" {
		t.Errorf("default tolerations (-want +got):\n%s", diff)
	}
}
