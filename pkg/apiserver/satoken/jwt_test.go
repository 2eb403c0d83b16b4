package satoken

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

func newSigner(t *testing.T) *Signer { return newSignerForFuzz(t) }

func newSignerForFuzz(t testing.TB) *Signer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(key, DefaultIssuer)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func claimsAt(now time.Time) Claims {
	return Claims{
		Subject: Subject("team", "builder"), Audience: []string{DefaultIssuer},
		IssuedAt: now.Unix(), NotBefore: now.Unix(), Expiry: now.Add(time.Hour).Unix(),
		Kubernetes: Private{Namespace: "team", ServiceAccount: Ref{Name: "builder", UID: "u1"},
			Pod: &Ref{Name: "p", UID: "u2"}},
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	s := newSigner(t)
	now := time.Now()
	tok, err := s.Sign(claimsAt(now))
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Verify(tok, now.Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != DefaultIssuer || c.Kubernetes.Pod.UID != "u2" || !c.HasAudience([]string{"x", DefaultIssuer}) {
		t.Fatalf("claims = %+v", c)
	}
	if c.HasAudience([]string{"other"}) {
		t.Fatal("audience other accepted")
	}
	// The claims are readable JSON with the names Kubernetes uses.
	body, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	k8s := raw["kubernetes.io"].(map[string]any)
	if raw["sub"] != "system:serviceaccount:team:builder" || k8s["namespace"] != "team" {
		t.Fatalf("raw claims = %v", raw)
	}
}

func TestVerifyRefuses(t *testing.T) {
	s, other := newSigner(t), newSigner(t)
	now := time.Now()
	good, _ := s.Sign(claimsAt(now))
	foreign, _ := other.Sign(claimsAt(now))
	parts := strings.Split(good, ".")
	tampered := claimsAt(now)
	tampered.Kubernetes.Namespace = "kube-system"
	tampered.Subject = Subject("kube-system", "builder")
	tb, _ := json.Marshal(tampered)
	mismatched := claimsAt(now)
	mismatched.Subject = Subject("team", "admin")
	badSubject, _ := s.Sign(mismatched)

	for name, tc := range map[string]struct {
		token string
		at    time.Time
	}{
		"other key":        {foreign, now},
		"changed claims":   {parts[0] + "." + enc(tb) + "." + parts[2], now},
		"expired":          {good, now.Add(time.Hour + 2*time.Minute)},
		"not yet valid":    {good, now.Add(-2 * time.Minute)},
		"subject mismatch": {badSubject, now},
		"truncated sig":    {parts[0] + "." + parts[1] + "." + parts[2][:10], now},
		"alg none":         {enc([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".", now},
	} {
		if _, err := s.Verify(tc.token, tc.at); err == nil || errors.Is(err, ErrNotJWT) {
			t.Errorf("%s: err = %v, want a verification error", name, err)
		}
	}
	for _, tok := range []string{"abcdef0123456789", "a.b", "!!.x.y"} {
		if _, err := s.Verify(tok, now); !errors.Is(err, ErrNotJWT) {
			t.Errorf("Verify(%q) = %v, want ErrNotJWT", tok, err)
		}
	}
	// Within the leeway of a minute the token is still good.
	if _, err := s.Verify(good, now.Add(time.Hour+30*time.Second)); err != nil {
		t.Errorf("inside leeway: %v", err)
	}
}

func TestSplitSubject(t *testing.T) {
	for user, want := range map[string]bool{
		"system:serviceaccount:ns:sa":  true,
		"system:serviceaccount:ns":     false,
		"system:serviceaccount::sa":    false,
		"system:serviceaccount:ns:a:b": false,
		"admin":                        false,
	} {
		if _, _, ok := SplitSubject(user); ok != want {
			t.Errorf("SplitSubject(%q) ok = %v", user, ok)
		}
	}
}

// The published key set verifies the signer's tokens: rebuild the key from
// the JWK and check a signature with it.
func TestJWKSVerifiesTokens(t *testing.T) {
	s := newSigner(t)
	raw, err := s.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []struct{ Kty, Crv, Alg, Kid, X, Y string }
	}
	if err := json.Unmarshal(raw, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("key set %s: %v", raw, err)
	}
	k := set.Keys[0]
	x, _ := base64.RawURLEncoding.DecodeString(k.X)
	y, _ := base64.RawURLEncoding.DecodeString(k.Y)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := s.Sign(claimsAt(time.Now()))
	parts := strings.Split(tok, ".")
	var hdr struct{ Kid string }
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	_ = json.Unmarshal(hb, &hdr)
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if k.Kty != "EC" || k.Crv != "P-256" || k.Alg != "ES256" || k.Kid != hdr.Kid ||
		!ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatalf("key %+v does not verify a token with kid %q", k, hdr.Kid)
	}
	cfg, err := s.OpenIDConfig()
	if err != nil || !strings.Contains(string(cfg), `"jwks_uri":"`+DefaultIssuer+`/openid/v1/jwks"`) ||
		!strings.Contains(string(cfg), `"issuer":"`+DefaultIssuer+`"`) {
		t.Fatalf("openid configuration %s: %v", cfg, err)
	}
}

// A changed issuer keeps accepting tokens of the old one listed after it.
func TestIssuerChange(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := NewSigner(key, DefaultIssuer)
	tok, _ := old.Sign(claimsAt(time.Now()))
	moved, err := NewSigner(key, "https://tug.example.com", DefaultIssuer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := moved.Verify(tok, time.Now()); err != nil {
		t.Errorf("token of the previous issuer: %v", err)
	}
	fresh, _ := moved.Sign(claimsAt(time.Now()))
	c, err := moved.Verify(fresh, time.Now())
	if err != nil || c.Issuer != "https://tug.example.com" {
		t.Errorf("new token: %v %+v", err, c)
	}
	if _, err := old.Verify(fresh, time.Now()); err == nil {
		t.Error("a signer without the new issuer accepted its token")
	}
}
