package storage

import (
	"errors"
	"testing"
)

func TestContinueRoundTrip(t *testing.T) {
	token, err := EncodeContinue("/registry/pods/ns/b\x00", "/registry/pods/", 42)
	if err != nil {
		t.Fatal(err)
	}
	key, rv, err := DecodeContinue(token, "/registry/pods/")
	if err != nil {
		t.Fatal(err)
	}
	if key != "/registry/pods/ns/b\x00" || rv != 42 {
		t.Errorf("decoded %q at %d", key, rv)
	}
	if _, err := EncodeContinue("/registry/secrets/x", "/registry/pods/", 1); err == nil {
		t.Error("encoding a key outside the prefix succeeded")
	}
}

func TestDecodeContinueRejects(t *testing.T) {
	escape, err := EncodeContinue("/registry/pods/../secrets/x", "/registry/pods/", 1)
	if err != nil {
		t.Fatal(err)
	}
	for name, token := range map[string]string{
		"not base64": "%%%",
		"not json":   "bm90IGpzb24",
		"no version": "e30",
		"escape":     escape,
	} {
		if _, _, err := DecodeContinue(token, "/registry/pods/"); !errors.Is(err, ErrInvalidContinue) {
			t.Errorf("%s: got %v, want ErrInvalidContinue", name, err)
		}
	}
}
