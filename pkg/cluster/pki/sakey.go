package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tugcluster/tug/pkg/cluster/internal/atomicfile"
)

// ServiceAccountKeyFile holds the key that signs service account tokens.
const ServiceAccountKeyFile = "sa.key"

// ensureServiceAccountKey loads the token signing key, creating a P-256
// key on first start. Like the CA, an existing but unreadable key is an
// error: a new key would invalidate every token pods hold.
func ensureServiceAccountKey(dir string) (crypto.Signer, error) {
	path := filepath.Join(dir, ServiceAccountKeyFile)
	keyPEM, err := os.ReadFile(path)
	if err == nil {
		key, err := parseKey(keyPEM)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ServiceAccountKeyFile, err)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate service account key: %w", err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode service account key: %w", err)
	}
	if err := atomicfile.Write(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	return key, nil
}
