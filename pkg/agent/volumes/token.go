package volumes

import (
	"context"
	"errors"
	"fmt"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// When a cached service account token is renewed, as the kubelet does it:
// once 80 % of its lifetime has passed, and at the latest a day after it
// was issued, however long it would still be valid.
const (
	tokenRenewAfter = 0.8
	tokenMaxAge     = 24 * time.Hour
)

// defaultTokenSeconds is the lifetime asked for when the source names
// none (API defaulting normally sets it).
const defaultTokenSeconds int64 = 3600

// tokenKey is what tells the tokens of one pod apart. Two sources that
// agree on all of it share a token.
type tokenKey struct {
	serviceAccount    string
	audience          string
	expirationSeconds int64
}

// cachedToken is a token with the times that decide its renewal.
type cachedToken struct {
	token   string
	issued  time.Time // the Manager's clock when it was requested
	expires time.Time
}

// stale reports whether t is due for renewal at now.
func (t cachedToken) stale(now time.Time) bool {
	age := now.Sub(t.issued)
	lifetime := t.expires.Sub(t.issued)
	return age > time.Duration(float64(lifetime)*tokenRenewAfter) || age > tokenMaxAge
}

// serviceAccountToken returns a token for the pod's service account bound
// to the pod: the cached one while it is fresh, else a new one from the
// TokenRequest API. A failed renewal is an error like any failed read of
// the volume's sources, so a resync keeps the file that is there.
func (m *Manager) serviceAccountToken(ctx context.Context, pod *corev1.Pod, src *corev1.ServiceAccountTokenProjection) (string, error) {
	key := tokenKey{
		serviceAccount:    serviceAccountName(pod),
		audience:          src.Audience,
		expirationSeconds: defaultTokenSeconds,
	}
	if src.ExpirationSeconds != nil {
		key.expirationSeconds = *src.ExpirationSeconds
	}
	uid := string(pod.UID)
	now := m.opts.Now()
	if t, ok := m.cachedToken(uid, key); ok && !t.stale(now) {
		return t.token, nil
	}
	t, err := m.requestToken(ctx, pod, key, now)
	if err != nil {
		return "", err
	}
	m.storeToken(uid, key, t)
	return t.token, nil
}

func (m *Manager) requestToken(ctx context.Context, pod *corev1.Pod, key tokenKey, now time.Time) (cachedToken, error) {
	var audiences []string // none: the API server's own audience
	if key.audience != "" {
		audiences = []string{key.audience}
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		Audiences:         audiences,
		ExpirationSeconds: &key.expirationSeconds,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
	tr, err := m.client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, key.serviceAccount, req, metav1.CreateOptions{})
	if err == nil && tr.Status.Token == "" {
		err = errors.New("no token in the response")
	}
	if err != nil {
		return cachedToken{}, fmt.Errorf("request token for serviceaccount %s/%s: %w", pod.Namespace, key.serviceAccount, err)
	}
	t := cachedToken{token: tr.Status.Token, issued: now, expires: tr.Status.ExpirationTimestamp.Time}
	// Without a usable expiry (none, or one before now on a node whose
	// clock runs ahead), count the lifetime that was asked for.
	if !t.expires.After(now) {
		t.expires = now.Add(time.Duration(key.expirationSeconds) * time.Second)
	}
	return t, nil
}

func serviceAccountName(pod *corev1.Pod) string {
	if pod.Spec.ServiceAccountName == "" {
		return "default"
	}
	return pod.Spec.ServiceAccountName
}

func (m *Manager) cachedToken(uid string, key tokenKey) (cachedToken, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[uid][key]
	return t, ok
}

func (m *Manager) storeToken(uid string, key tokenKey, t cachedToken) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tokens[uid] == nil {
		m.tokens[uid] = map[tokenKey]cachedToken{}
	}
	m.tokens[uid][key] = t
}
