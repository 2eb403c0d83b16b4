package integration

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// testRootCA stands in for the cluster CA the root CA publisher spreads.
const testRootCA = "-----BEGIN CERTIFICATE-----\nintegration\n-----END CERTIFICATE-----\n"

const saMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"

func simplePod(name, sa string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{
		ServiceAccountName: sa,
		Containers:         []corev1.Container{{Name: "c", Image: "busybox"}},
	}}
}

func apiAccessVolume(p *corev1.Pod) *corev1.Volume {
	for i := range p.Spec.Volumes {
		if strings.HasPrefix(p.Spec.Volumes[i].Name, "kube-api-access-") {
			return &p.Spec.Volumes[i]
		}
	}
	return nil
}

func TestPodsGetAPIAccessVolume(t *testing.T) {
	ns := newNamespace(t)
	pods := cluster.client.CoreV1().Pods(ns)
	waitServiceAccount(t, ns, "default")
	p, err := pods.Create(ctx(t), simplePod("auto", ""), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v := apiAccessVolume(p)
	if v == nil || v.Projected == nil || len(v.Projected.Sources) != 3 {
		t.Fatalf("volumes %+v: want the projected kube-api-access volume", p.Spec.Volumes)
	}
	src := v.Projected.Sources
	if src[0].ServiceAccountToken == nil || src[0].ServiceAccountToken.Path != "token" || *src[0].ServiceAccountToken.ExpirationSeconds != 3607 ||
		src[1].ConfigMap == nil || src[1].ConfigMap.Name != "kube-root-ca.crt" ||
		src[2].DownwardAPI == nil || src[2].DownwardAPI.Items[0].FieldRef.FieldPath != "metadata.namespace" {
		t.Errorf("sources %+v", src)
	}
	m := p.Spec.Containers[0].VolumeMounts
	if len(m) != 1 || m[0].Name != v.Name || m[0].MountPath != saMountPath || !m[0].ReadOnly {
		t.Errorf("mounts %+v", m)
	}

	off := simplePod("off", "")
	off.Spec.AutomountServiceAccountToken = ptr(false)
	if p, err = pods.Create(ctx(t), off, metav1.CreateOptions{}); err != nil || apiAccessVolume(p) != nil {
		t.Errorf("automount false: err %v, volumes %+v", err, p.Spec.Volumes)
	}
	quiet := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "quiet"}, AutomountServiceAccountToken: ptr(false)}
	if _, err := cluster.client.CoreV1().ServiceAccounts(ns).Create(ctx(t), quiet, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if p, err = pods.Create(ctx(t), simplePod("quiet", "quiet"), metav1.CreateOptions{}); err != nil || apiAccessVolume(p) != nil {
		t.Errorf("account automount false: err %v, volumes %+v", err, p.Spec.Volumes)
	}

	// A pod without imagePullSecrets gets its account's; one with its own
	// keeps them.
	puller := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "puller"},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "registry-creds"}}}
	if _, err := cluster.client.CoreV1().ServiceAccounts(ns).Create(ctx(t), puller, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if p, err = pods.Create(ctx(t), simplePod("pulls", "puller"), metav1.CreateOptions{}); err != nil ||
		len(p.Spec.ImagePullSecrets) != 1 || p.Spec.ImagePullSecrets[0].Name != "registry-creds" {
		t.Errorf("pull secrets from the account: err %v, %+v", err, p.Spec.ImagePullSecrets)
	}
	own := simplePod("own-secrets", "puller")
	own.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "mine"}}
	if p, err = pods.Create(ctx(t), own, metav1.CreateOptions{}); err != nil ||
		len(p.Spec.ImagePullSecrets) != 1 || p.Spec.ImagePullSecrets[0].Name != "mine" {
		t.Errorf("pod's own pull secrets: err %v, %+v", err, p.Spec.ImagePullSecrets)
	}

	_, err = pods.Create(ctx(t), simplePod("ghost", "ghost"), metav1.CreateOptions{})
	want := fmt.Sprintf(`pods "ghost" is forbidden: error looking up service account %s/ghost: serviceaccount "ghost" not found`, ns)
	if !apierrors.IsForbidden(err) || err.Error() != want {
		t.Errorf("missing account: %v\nwant %s", err, want)
	}
}

// notRootCA leaves out the ConfigMap every namespace gets.
const notRootCA = "metadata.name!=kube-root-ca.crt"

func waitRootCA(t *testing.T, ns string) {
	t.Helper()
	eventually(t, 5*time.Second, func() (bool, string) {
		cm, err := cluster.client.CoreV1().ConfigMaps(ns).Get(ctx(t), "kube-root-ca.crt", metav1.GetOptions{})
		return err == nil && cm.Data["ca.crt"] == testRootCA, fmt.Sprintf("configmap: %v", err)
	})
}

func TestRootCAPublished(t *testing.T) {
	ns := newNamespace(t)
	cms := cluster.client.CoreV1().ConfigMaps(ns)
	waitRootCA(t, ns)
	if err := cms.Delete(ctx(t), "kube-root-ca.crt", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		cm, err := cms.Get(ctx(t), "kube-root-ca.crt", metav1.GetOptions{})
		return err == nil && cm.Data["ca.crt"] == testRootCA, fmt.Sprintf("recreated configmap: %v", err)
	})
}

func waitServiceAccount(t *testing.T, ns, name string) {
	t.Helper()
	eventually(t, 5*time.Second, func() (bool, string) {
		_, err := cluster.client.CoreV1().ServiceAccounts(ns).Get(ctx(t), name, metav1.GetOptions{})
		return err == nil, fmt.Sprintf("service account %s: %v", name, err)
	})
}

func clientWithToken(t *testing.T, token string) *kubernetes.Clientset {
	t.Helper()
	return kubernetes.NewForConfigOrDie(&rest.Config{Host: cluster.http.URL, BearerToken: token})
}

func TestServiceAccountTokenAndRBAC(t *testing.T) {
	ns := newNamespace(t)
	core := cluster.client.CoreV1()
	if _, err := core.ServiceAccounts(ns).Create(ctx(t), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "builder"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod, err := core.Pods(ns).Create(ctx(t), simplePod("worker", "builder"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := core.ServiceAccounts(ns).CreateToken(ctx(t), "builder", &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{BoundObjectRef: &authenticationv1.BoundObjectReference{
			Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Status.Token == "" || time.Until(tr.Status.ExpirationTimestamp.Time) < 55*time.Minute {
		t.Fatalf("token request status %+v: want a token valid for an hour", tr.Status)
	}
	sa := clientWithToken(t, tr.Status.Token)

	// Who am I: the service account, in its groups.
	who, err := sa.AuthenticationV1().SelfSubjectReviews().Create(ctx(t), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	user := "system:serviceaccount:" + ns + ":builder"
	if ui := who.Status.UserInfo; ui.Username != user || !slices.Contains(ui.Groups, "system:serviceaccounts") ||
		!slices.Contains(ui.Groups, "system:serviceaccounts:"+ns) || !slices.Contains(ui.Groups, "system:authenticated") {
		t.Errorf("user info %+v", who.Status.UserInfo)
	}

	// Nothing is allowed until a binding says so.
	_, err = sa.CoreV1().Pods(ns).List(ctx(t), metav1.ListOptions{})
	want := fmt.Sprintf(`pods is forbidden: User %q cannot list resource "pods" in API group "" in the namespace %q`, user, ns)
	if !apierrors.IsForbidden(err) || err.Error() != want {
		t.Fatalf("list before binding: %v\nwant %s", err, want)
	}
	if _, err := sa.Discovery().ServerVersion(); err != nil {
		t.Errorf("discovery as a service account: %v", err)
	}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "pod-reader"}, Rules: []rbacv1.PolicyRule{
		{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods"}}}}
	if _, err := cluster.client.RbacV1().Roles(ns).Create(ctx(t), role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "builder-reads"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "pod-reader"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "builder", Namespace: ns}}}
	if _, err := cluster.client.RbacV1().RoleBindings(ns).Create(ctx(t), binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		_, err := sa.CoreV1().Pods(ns).Get(ctx(t), "worker", metav1.GetOptions{})
		return err == nil, fmt.Sprintf("get after binding: %v", err)
	})
	if err := sa.CoreV1().Pods(ns).Delete(ctx(t), "worker", metav1.DeleteOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("delete with a read-only role: %v", err)
	}
	if _, err := sa.CoreV1().Pods("default").List(ctx(t), metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("list in another namespace: %v", err)
	}

	// The token dies with the pod it is bound to.
	if err := core.Pods(ns).Delete(ctx(t), "worker", metav1.DeleteOptions{GracePeriodSeconds: ptr[int64](0)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		_, err := sa.CoreV1().Pods(ns).List(ctx(t), metav1.ListOptions{})
		return apierrors.IsUnauthorized(err), fmt.Sprintf("list after the pod was deleted: %v", err)
	})
}

func TestTokenRequestBadInput(t *testing.T) {
	ns := newNamespace(t)
	waitServiceAccount(t, ns, "default")
	sas := cluster.client.CoreV1().ServiceAccounts(ns)
	request := func(spec authenticationv1.TokenRequestSpec) error {
		_, err := sas.CreateToken(ctx(t), "default", &authenticationv1.TokenRequest{Spec: spec}, metav1.CreateOptions{})
		return err
	}
	err := request(authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr[int64](60)})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes") {
		t.Errorf("short token: %v", err)
	}
	err = request(authenticationv1.TokenRequestSpec{BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: "nope"}})
	if !apierrors.IsNotFound(err) || !strings.Contains(err.Error(), `pods "nope" not found`) {
		t.Errorf("bound to a missing pod: %v", err)
	}
	err = request(authenticationv1.TokenRequestSpec{BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Deployment", Name: "x"}})
	if !apierrors.IsBadRequest(err) {
		t.Errorf("bound to a deployment: %v", err)
	}
	if _, err := cluster.client.CoreV1().Pods(ns).Create(ctx(t), simplePod("other", "default"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := sas.Create(ctx(t), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "second"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = sas.CreateToken(ctx(t), "second", &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: "other"}}}, metav1.CreateOptions{})
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "different serviceaccount") {
		t.Errorf("bound to a pod of another account: %v", err)
	}
	_, err = cluster.client.CoreV1().ServiceAccounts(ns).CreateToken(ctx(t), "missing", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("missing account: %v", err)
	}

	// A token for another audience is not accepted here.
	tr, err := sas.CreateToken(ctx(t), "default", &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		Audiences: []string{"vault"}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := doRequest(t, http.MethodGet, "/api", "", nil, map[string]string{"Authorization": "Bearer " + tr.Status.Token})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("token for audience vault: status %d, want 401", resp.StatusCode)
	}
}

func TestServiceAccountTokenSecrets(t *testing.T) {
	ns := newNamespace(t)
	core := cluster.client.CoreV1()
	sa, err := core.ServiceAccounts(ns).Create(ctx(t), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "ci"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tokenSecret := func(name, account string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name,
			Annotations: map[string]string{corev1.ServiceAccountNameKey: account}},
			Type: corev1.SecretTypeServiceAccountToken}
	}
	if _, err := core.Secrets(ns).Create(ctx(t), tokenSecret("ci-token", "ci"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var s *corev1.Secret
	eventually(t, 5*time.Second, func() (bool, string) {
		s, err = core.Secrets(ns).Get(ctx(t), "ci-token", metav1.GetOptions{})
		return err == nil && len(s.Data["token"]) > 0, fmt.Sprintf("secret %v: %v", err, s)
	})
	if string(s.Data["namespace"]) != ns || string(s.Data["ca.crt"]) != testRootCA ||
		s.Annotations[corev1.ServiceAccountUIDKey] != string(sa.UID) {
		t.Errorf("secret data %q, annotations %v", s.Data, s.Annotations)
	}
	who, err := clientWithToken(t, string(s.Data["token"])).AuthenticationV1().SelfSubjectReviews().Create(ctx(t), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || who.Status.UserInfo.Username != "system:serviceaccount:"+ns+":ci" {
		t.Fatalf("whoami with the secret's token: %v %+v", err, who)
	}

	// A Secret for an account that does not exist is deleted.
	if _, err := core.Secrets(ns).Create(ctx(t), tokenSecret("ghost-token", "ghost"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		_, err := core.Secrets(ns).Get(ctx(t), "ghost-token", metav1.GetOptions{})
		return apierrors.IsNotFound(err), fmt.Sprintf("secret of a missing account: %v", err)
	})

	// Deleting the account deletes its token Secrets, which revokes the token.
	if err := core.ServiceAccounts(ns).Delete(ctx(t), "ci", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		_, err := core.Secrets(ns).Get(ctx(t), "ci-token", metav1.GetOptions{})
		return apierrors.IsNotFound(err), fmt.Sprintf("token secret after its account went: %v", err)
	})
	resp, _ := doRequest(t, http.MethodGet, "/api", "", nil, map[string]string{"Authorization": "Bearer " + string(s.Data["token"])})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked token: status %d, want 401", resp.StatusCode)
	}
}

// TestIssuerDiscovery: service accounts (and admins) read the issuer's
// OpenID configuration and key set, as other systems need them to verify
// tokens meant for them.
func TestIssuerDiscovery(t *testing.T) {
	ns := newNamespace(t)
	waitServiceAccount(t, ns, "default")
	tr, err := cluster.client.CoreV1().ServiceAccounts(ns).CreateToken(ctx(t), "default", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, token := range []string{adminToken, tr.Status.Token} {
		auth := map[string]string{"Authorization": "Bearer " + token}
		resp, body := doRequest(t, http.MethodGet, "/.well-known/openid-configuration", "", nil, auth)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"issuer":"https://kubernetes.default.svc.cluster.local"`) ||
			!strings.Contains(string(body), `"jwks_uri":"https://kubernetes.default.svc.cluster.local/openid/v1/jwks"`) {
			t.Errorf("openid configuration: %d %s", resp.StatusCode, body)
		}
		resp, body = doRequest(t, http.MethodGet, "/openid/v1/jwks", "", nil, auth)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/jwk-set+json" ||
			!strings.Contains(string(body), `"alg":"ES256"`) {
			t.Errorf("key set: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	if resp, _ := doRequest(t, http.MethodGet, "/openid/v1/jwks", "", nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous key set: %d, want 401", resp.StatusCode)
	}
}

// TestTokenReview: a service account bound to system:auth-delegator
// checks other tokens, as Vault's Kubernetes auth method does.
func TestTokenReview(t *testing.T) {
	ns := newNamespace(t)
	core := cluster.client.CoreV1()
	for _, name := range []string{"vault", "app"} {
		if _, err := core.ServiceAccounts(ns).Create(ctx(t), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cluster.client.RbacV1().ClusterRoleBindings().Create(ctx(t), &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: ns + "-vault-delegator"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:auth-delegator"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "vault", Namespace: ns}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	token := func(name string, audiences ...string) string {
		tr, err := core.ServiceAccounts(ns).CreateToken(ctx(t), name, &authenticationv1.TokenRequest{
			Spec: authenticationv1.TokenRequestSpec{Audiences: audiences}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return tr.Status.Token
	}
	reviews := clientWithToken(t, token("vault")).AuthenticationV1().TokenReviews()
	review := func(tok string, audiences ...string) *authenticationv1.TokenReview {
		t.Helper()
		var r *authenticationv1.TokenReview
		eventually(t, 5*time.Second, func() (bool, string) {
			var err error
			r, err = reviews.Create(ctx(t), &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: tok, Audiences: audiences}}, metav1.CreateOptions{})
			return err == nil, fmt.Sprintf("token review: %v", err)
		})
		return r
	}
	app := "system:serviceaccount:" + ns + ":app"
	if r := review(token("app")); !r.Status.Authenticated || r.Status.User.Username != app {
		t.Errorf("app's token: %+v", r.Status)
	}
	if r := review(token("app", "vault"), "vault"); !r.Status.Authenticated || r.Status.User.Username != app ||
		!slices.Equal(r.Status.Audiences, []string{"vault"}) {
		t.Errorf("app's vault token for vault: %+v", r.Status)
	}
	if r := review(token("app", "vault")); r.Status.Authenticated {
		t.Errorf("app's vault token for the API server: %+v", r.Status)
	}
	if r := review("not-a-token"); r.Status.Authenticated {
		t.Errorf("garbage: %+v", r.Status)
	}
	// Reviewing tokens is not for everyone.
	_, err := clientWithToken(t, token("app")).AuthenticationV1().TokenReviews().Create(ctx(t),
		&authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: "x"}}, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("token review by app: %v", err)
	}
}
