package tokens

import (
	"context"
	"log/slog"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/tugcluster/tug/pkg/controller"
)

func tokenSecret(account string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "ci-token", UID: "secret-uid",
		Annotations: map[string]string{corev1.ServiceAccountNameKey: account}},
		Type: corev1.SecretTypeServiceAccountToken}
}

// newTestController caches secret (and cachedSA when set) in the
// informers while the API server holds live; token requests answer "t0k".
func newTestController(t *testing.T, secret *corev1.Secret, cachedSA *corev1.ServiceAccount, live ...runtime.Object) (*Controller, *fake.Clientset) {
	t.Helper()
	client := fake.NewClientset(append(live, secret)...)
	client.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "token" {
			return false, nil, nil
		}
		return true, &authenticationv1.TokenRequest{Status: authenticationv1.TokenRequestStatus{Token: "t0k"}}, nil
	})
	factory := informers.NewSharedInformerFactory(client, 0)
	c, err := New(&controller.Context{Client: client, Informers: factory, Log: slog.New(slog.DiscardHandler),
		Options: controller.Options{RootCA: []byte("CA")}})
	if err != nil {
		t.Fatal(err)
	}
	ctrl := c.(*Controller)
	if err := ctrl.factory.Core().V1().Secrets().Informer().GetIndexer().Add(secret); err != nil {
		t.Fatal(err)
	}
	if cachedSA != nil {
		if err := factory.Core().V1().ServiceAccounts().Informer().GetIndexer().Add(cachedSA); err != nil {
			t.Fatal(err)
		}
	}
	return ctrl, client
}

func TestSyncFillsTheSecret(t *testing.T) {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "ci", UID: "sa-uid"}}
	c, client := newTestController(t, tokenSecret("ci"), sa, sa)
	if err := c.sync(context.Background(), "ns/ci-token"); err != nil {
		t.Fatal(err)
	}
	s, err := client.CoreV1().Secrets("ns").Get(context.Background(), "ci-token", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(s.Data["token"]) != "t0k" || string(s.Data["ca.crt"]) != "CA" || string(s.Data["namespace"]) != "ns" ||
		s.Annotations[corev1.ServiceAccountUIDKey] != "sa-uid" {
		t.Errorf("secret data %q, annotations %v", s.Data, s.Annotations)
	}
}

// An account the cache has not seen yet is asked for before its Secret
// would be deleted.
func TestSyncAsksTheServerBeforeDeleting(t *testing.T) {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "ci", UID: "sa-uid"}}
	c, client := newTestController(t, tokenSecret("ci"), nil, sa)
	if err := c.sync(context.Background(), "ns/ci-token"); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().Secrets("ns").Get(context.Background(), "ci-token", metav1.GetOptions{}); err != nil {
		t.Fatalf("secret of an account only the server knows: %v", err)
	}

	c, client = newTestController(t, tokenSecret("ghost"), nil)
	if err := c.sync(context.Background(), "ns/ci-token"); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().Secrets("ns").Get(context.Background(), "ci-token", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("secret of a missing account: %v, want it deleted", err)
	}
}
