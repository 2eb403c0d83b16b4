package satoken

import (
	"encoding/json"
	"strings"
)

// Paths of service account issuer discovery, as Kubernetes serves them.
const (
	OpenIDConfigPath = "/.well-known/openid-configuration"
	JWKSPath         = "/openid/v1/jwks"
)

type jwk struct {
	Use string `json:"use"`
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Crv string `json:"crv"`
	Alg string `json:"alg"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// JWKS is the JSON Web Key Set with the public key that verifies this
// signer's tokens.
func (s *Signer) JWKS() ([]byte, error) {
	point, err := s.key.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string][]jwk{"keys": {{
		Use: "sig", Kty: "EC", Kid: s.kid, Crv: "P-256", Alg: "ES256", X: enc(point[1:33]), Y: enc(point[33:65]),
	}}})
}

// OpenIDConfig is the OpenID provider configuration that lets other
// systems find the key set and verify tokens; the key set is published
// under the issuer's URL.
func (s *Signer) OpenIDConfig() ([]byte, error) {
	return json.Marshal(map[string]any{
		"issuer":                                s.Issuer(),
		"jwks_uri":                              strings.TrimRight(s.Issuer(), "/") + JWKSPath,
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"ES256"},
	})
}
