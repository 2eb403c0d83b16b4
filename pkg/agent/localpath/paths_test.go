package localpath

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestVolumeDir(t *testing.T) {
	bases := []string{"/var/lib/tug/storage", "/data"}
	ok := []struct{ path, volume string }{
		{"/var/lib/tug/storage/pvc-1", "pvc-1"},
		{"/data/pvc-2", "pvc-2"},
	}
	for _, tc := range ok {
		if got, err := volumeDir(tc.path, tc.volume, bases); err != nil || got != tc.path {
			t.Errorf("volumeDir(%q) = %q, %v", tc.path, got, err)
		}
	}
	bad := []struct{ path, volume string }{
		{"/var/lib/tug/storage", "storage"},          // the base itself
		{"/var/lib/tug/storage/../../../etc", "etc"}, // traversal
		{"/var/lib/tug/storage/x/../pvc-1", "pvc-1"}, // unclean
		{"/var/lib/tug/storage/a/pvc-1", "pvc-1"},    // too deep
		{"/var/lib/tug/storage/pvc-2", "pvc-1"},      // another volume's name
		{"/etc/pvc-1", "pvc-1"},                      // outside every base
		{"/var/lib/tug/storage-x/pvc-1", "pvc-1"},    // prefix is not containment
		{"var/lib/tug/storage/pvc-1", "pvc-1"},       // relative
		{"/var/lib/tug/storage/pvc-1/", "pvc-1"},     // trailing slash
		{"/var/lib/tug/storage/..", ".."},            // dot-dot name
		{"/data/pvc-1", ""},                          // no name
		{"/", ""},                                    // root
	}
	for _, tc := range bad {
		if got, err := volumeDir(tc.path, tc.volume, bases); !errors.Is(err, ErrUnsafePath) {
			t.Errorf("volumeDir(%q, %q) = %q, %v; want ErrUnsafePath", tc.path, tc.volume, got, err)
		}
	}
}

func TestCleanBases(t *testing.T) {
	got, err := cleanBases([]string{"/data/", "/var//lib/tug"})
	if err != nil || got[0] != "/data" || got[1] != "/var/lib/tug" {
		t.Fatalf("cleanBases = %v, %v", got, err)
	}
	for _, b := range []string{"/", "relative", ""} {
		if _, err := cleanBases([]string{b}); err == nil {
			t.Errorf("base %q accepted", b)
		}
	}
}

func TestRemoveVolumeDirKeepsLinkTargets(t *testing.T) {
	root := t.TempDir()
	outside := filepath.Join(root, "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(outside, "keep")
	if err := os.WriteFile(keep, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	vol := filepath.Join(root, "base", "pvc-1")
	if err := os.MkdirAll(filepath.Join(vol, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(vol, "sub", "escape")); err != nil {
		t.Fatal(err)
	}
	if err := removeVolumeDir(vol); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(vol); !os.IsNotExist(err) {
		t.Fatalf("volume directory still there: %v", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("file behind a link inside the volume was removed: %v", err)
	}

	// A volume directory replaced by a link: only the link goes.
	if err := os.Symlink(outside, vol); err != nil {
		t.Fatal(err)
	}
	if err := removeVolumeDir(vol); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("link target was removed: %v", err)
	}
	// Missing is fine.
	if err := removeVolumeDir(vol); err != nil {
		t.Fatal(err)
	}
}
