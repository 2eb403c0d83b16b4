package token

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoadOrCreateCreatesOnceAndReuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	first, err := LoadOrCreate(path)
	if err != nil {
		t.Fatalf("first LoadOrCreate: %v", err)
	}
	if len(first) != 64 {
		t.Errorf("token %q has %d characters, want 64", first, len(first))
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode = %v, want 0600", fi.Mode().Perm())
	}
	second, err := LoadOrCreate(path)
	if err != nil {
		t.Fatalf("second LoadOrCreate: %v", err)
	}
	if first != second {
		t.Errorf("token changed between starts: %q then %q", first, second)
	}
	other, err := LoadOrCreate(filepath.Join(t.TempDir(), "token"))
	if err != nil {
		t.Fatal(err)
	}
	if other == first {
		t.Error("two data directories got the same token")
	}
}

func TestLoadOrCreateKeepsOperatorToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte("my-own-long-secret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != "my-own-long-secret-token" {
		t.Errorf("token = %q, want the file's token without the newline", got)
	}
}

func TestLoadOrCreateRejectsShortToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte("abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(path); err == nil {
		t.Fatal("LoadOrCreate accepted a 3-character token")
	}
}
