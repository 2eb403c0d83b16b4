// Package token owns the server's join token: a random secret created on the
// first start of a tug server and kept in one file (0600), which nodes will
// present as a bearer token to join the cluster.
package token

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/tugcluster/tug/pkg/cluster/internal/atomicfile"
)

// minLength rejects token files that were truncated or hand-edited into
// something guessable.
const minLength = 16

// LoadOrCreate returns the token stored at path, creating the file with a
// new random token (256 bits, hex) when it does not exist.
func LoadOrCreate(path string) (string, error) {
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		tok := strings.TrimSpace(string(data))
		if len(tok) < minLength || strings.ContainsAny(tok, " \t\r\n") {
			return "", fmt.Errorf("token file %s: want one token of at least %d characters", path, minLength)
		}
		return tok, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("read token: %w", err)
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	tok := hex.EncodeToString(buf)
	if err := atomicfile.Write(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("create token: %w", err)
	}
	return tok, nil
}
