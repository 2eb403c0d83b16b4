package satoken

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
)

// ErrNotJWT is returned by Verify for a bearer token that is not a JWT
// at all, so the caller can try other authenticators.
var ErrNotJWT = errors.New("not a JSON Web Token")

// leeway absorbs small clock differences for nbf and exp, as Kubernetes'
// token authenticator does.
const leeway = time.Minute

type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid,omitempty"`
	Typ string `json:"typ,omitempty"`
}

// Signer issues and verifies tokens with one P-256 key.
type Signer struct {
	key     *ecdsa.PrivateKey
	kid     string
	issuers []string // the first signs; all verify
}

// NewSigner returns a Signer for key, which must be a P-256 ECDSA key.
// The first issuer is written into new tokens; tokens of any of them are
// accepted, so an issuer can be changed without refusing the tokens pods
// already hold (as Kubernetes allows several --service-account-issuer).
func NewSigner(key crypto.Signer, issuers ...string) (*Signer, error) {
	if len(issuers) == 0 {
		issuers = []string{DefaultIssuer}
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("service account key: want a P-256 ECDSA key, got %T", key)
	}
	der, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	return &Signer{key: ec, kid: base64.RawURLEncoding.EncodeToString(sum[:]), issuers: issuers}, nil
}

// Issuer is the iss claim of this signer's new tokens.
func (s *Signer) Issuer() string { return s.issuers[0] }

// Issuers are the iss claims this signer accepts.
func (s *Signer) Issuers() []string { return slices.Clone(s.issuers) }

// Sign fills the issuer and returns the signed token.
func (s *Signer) Sign(c Claims) (string, error) {
	c.Issuer = s.issuers[0]
	h, err := json.Marshal(header{Alg: "ES256", Kid: s.kid})
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	signed := enc(h) + "." + enc(body)
	digest := sha256.Sum256([]byte(signed))
	r, sig, err := ecdsa.Sign(rand.Reader, s.key, digest[:])
	if err != nil {
		return "", err
	}
	raw := make([]byte, 64)
	r.FillBytes(raw[:32])
	sig.FillBytes(raw[32:])
	return signed + "." + enc(raw), nil
}

// Verify checks the signature, issuer, validity period and structure of
// token and returns its claims. A token that is not a JWT gives
// ErrNotJWT; one that is a JWT of another issuer or key gives an error
// too, so callers can tell "not ours" from "ours but invalid" only by
// ErrNotJWT.
func (s *Signer) Verify(token string, now time.Time) (*Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, ErrNotJWT
	}
	hb, err := dec(parts[0])
	if err != nil {
		return nil, ErrNotJWT
	}
	var h header
	if err := json.Unmarshal(hb, &h); err != nil {
		return nil, ErrNotJWT
	}
	if h.Alg != "ES256" || h.Kid != s.kid {
		return nil, errors.New("token is not signed by this cluster's service account key")
	}
	sig, err := dec(parts[2])
	if err != nil || len(sig) != 64 {
		return nil, errors.New("malformed token signature")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, ss := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(&s.key.PublicKey, digest[:], r, ss) {
		return nil, errors.New("invalid token signature")
	}
	body, err := dec(parts[1])
	if err != nil {
		return nil, errors.New("malformed token claims")
	}
	var c Claims
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, fmt.Errorf("malformed token claims: %w", err)
	}
	switch {
	case !slices.Contains(s.issuers, c.Issuer):
		return nil, fmt.Errorf("token issuer %q is not one of %q", c.Issuer, s.issuers)
	case now.After(time.Unix(c.Expiry, 0).Add(leeway)):
		return nil, errors.New("token has expired")
	case now.Add(leeway).Before(time.Unix(c.NotBefore, 0)):
		return nil, errors.New("token is not valid yet")
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return &c, nil
}

func enc(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// dec refuses non-canonical encodings (stray padding bits), so one token
// has one spelling.
func dec(s string) ([]byte, error) { return base64.RawURLEncoding.Strict().DecodeString(s) }
