package apiserver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tugcluster/tug/pkg/apiserver/satoken"
	"github.com/tugcluster/tug/pkg/storage"
)

func newTokenSigner(cfg Config) (*satoken.Signer, error) {
	key := cfg.ServiceAccountKey
	if key == nil {
		ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("apiserver: service account key: %w", err)
		}
		key = ec
	}
	s, err := satoken.NewSigner(key, cfg.ServiceAccountIssuers...)
	if err != nil {
		return nil, fmt.Errorf("apiserver: %w", err)
	}
	return s, nil
}

// serviceAccountUser authenticates a service account token: signed by this
// cluster, meant for one of audiences, not expired, and naming a service
// account (and bound object) that still exists with the same UID.
func (s *Server) serviceAccountUser(ctx context.Context, token string, audiences []string) (User, bool) {
	claims, err := s.tokens.Verify(token, time.Now())
	if err != nil || !claims.HasAudience(audiences) {
		return User{}, false
	}
	k := claims.Kubernetes
	sa := &corev1.ServiceAccount{}
	if !s.liveObject(ctx, "serviceaccounts", k.Namespace, k.ServiceAccount.Name, k.ServiceAccount.UID, sa) {
		return User{}, false
	}
	switch {
	case k.Pod != nil:
		pod := &corev1.Pod{}
		if !s.liveObject(ctx, "pods", k.Namespace, k.Pod.Name, k.Pod.UID, pod) || pod.DeletionTimestamp != nil {
			return User{}, false
		}
	case k.Secret != nil:
		if !s.liveObject(ctx, "secrets", k.Namespace, k.Secret.Name, k.Secret.UID, &corev1.Secret{}) {
			return User{}, false
		}
	case k.Node != nil:
		if !s.liveObject(ctx, "nodes", "", k.Node.Name, k.Node.UID, &corev1.Node{}) {
			return User{}, false
		}
	}
	return User{
		Name:   satoken.Subject(k.Namespace, k.ServiceAccount.Name),
		UID:    k.ServiceAccount.UID,
		Groups: satoken.Groups(k.Namespace),
	}, true
}

// liveObject reports whether the object exists with the given UID.
func (s *Server) liveObject(ctx context.Context, resource, namespace, name, uid string, into runtime.Object) bool {
	if s.cachedGet(ctx, resource, namespace, name, into) != nil {
		return false
	}
	m, err := meta.Accessor(into)
	return err == nil && string(m.GetUID()) == uid
}

// cachedGet reads a core object from the watch cache; a miss is confirmed
// by etcd, so an object created a moment ago is found.
func (s *Server) cachedGet(ctx context.Context, resource, namespace, name string, into runtime.Object) error {
	r := s.lookup("", "v1", resource)
	key := r.key(namespace, name)
	err := r.store.Get(ctx, key, storage.GetOptions{ResourceVersion: "0"}, into)
	if errors.Is(err, storage.ErrNotFound) {
		err = r.store.Get(ctx, key, storage.GetOptions{}, into)
	}
	return err
}
