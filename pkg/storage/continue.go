package storage

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path"
	"strings"
)

// continueToken is the decoded form of a list continue token. The format
// is the one Kubernetes uses, so tokens look familiar to its clients:
// base64url(JSON{"v":"meta.k8s.io/v1","rv":N,"start":"rest/of/key"}).
type continueToken struct {
	APIVersion      string `json:"v"`
	ResourceVersion int64  `json:"rv"`
	StartKey        string `json:"start"`
}

const continueAPIVersion = "meta.k8s.io/v1"

// EncodeContinue returns the token that resumes a list of keyPrefix at
// revision rv from nextKey (the first key not yet returned). nextKey must
// start with keyPrefix.
func EncodeContinue(nextKey, keyPrefix string, rv int64) (string, error) {
	if !strings.HasPrefix(nextKey, keyPrefix) {
		return "", fmt.Errorf("continue key %q is not under %q", nextKey, keyPrefix)
	}
	out, err := json.Marshal(&continueToken{
		APIVersion:      continueAPIVersion,
		ResourceVersion: rv,
		StartKey:        nextKey[len(keyPrefix):],
	})
	if err != nil {
		return "", fmt.Errorf("encode continue token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// DecodeContinue returns the key a list of keyPrefix resumes from and the
// revision it reads at. Errors wrap ErrInvalidContinue.
func DecodeContinue(token, keyPrefix string) (fromKey string, rv int64, err error) {
	data, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %v", ErrInvalidContinue, err)
	}
	var c continueToken
	if err := json.Unmarshal(data, &c); err != nil {
		return "", 0, fmt.Errorf("%w: %v", ErrInvalidContinue, err)
	}
	if c.APIVersion != continueAPIVersion {
		return "", 0, fmt.Errorf("%w: unknown version %q", ErrInvalidContinue, c.APIVersion)
	}
	if c.ResourceVersion <= 0 {
		return "", 0, fmt.Errorf("%w: no resource version", ErrInvalidContinue)
	}
	if c.StartKey == "" {
		return "", 0, fmt.Errorf("%w: no start key", ErrInvalidContinue)
	}
	// The start key must stay under the prefix: reject anything that
	// cleans to a different path ("../other").
	clean := path.Clean(c.StartKey)
	if strings.HasPrefix(clean, "..") || strings.HasPrefix(clean, "/") {
		return "", 0, fmt.Errorf("%w: start key %q escapes the list", ErrInvalidContinue, c.StartKey)
	}
	return keyPrefix + c.StartKey, c.ResourceVersion, nil
}
