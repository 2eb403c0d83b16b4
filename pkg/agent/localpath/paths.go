package localpath

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrUnsafePath marks a volume path the cleaner refuses to remove.
var ErrUnsafePath = errors.New("unsafe volume path")

// cleanBases checks and normalises the configured base directories: each
// must be absolute and not the root.
func cleanBases(bases []string) ([]string, error) {
	out := make([]string, 0, len(bases))
	for _, b := range bases {
		c := filepath.Clean(b)
		if !filepath.IsAbs(c) || c == string(filepath.Separator) {
			return nil, fmt.Errorf("local-path base directory %q must be absolute and not /", b)
		}
		out = append(out, c)
	}
	return out, nil
}

// volumeDir returns p when it is exactly <base>/<volume> for one of the
// (clean) bases, and an ErrUnsafePath error otherwise: no "..", no extra
// or missing levels, no other name than the volume's.
func volumeDir(p, volume string, bases []string) (string, error) {
	if volume == "" || volume == "." || volume == ".." || strings.ContainsRune(volume, filepath.Separator) {
		return "", fmt.Errorf("%w: volume name %q", ErrUnsafePath, volume)
	}
	if !filepath.IsAbs(p) || filepath.Clean(p) != p {
		return "", fmt.Errorf("%w: %q is not a clean absolute path", ErrUnsafePath, p)
	}
	if filepath.Base(p) != volume {
		return "", fmt.Errorf("%w: %q is not named after volume %s", ErrUnsafePath, p, volume)
	}
	parent := filepath.Dir(p)
	for _, b := range bases {
		if parent == b {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %q is not directly under an allowed base directory %v", ErrUnsafePath, p, bases)
}

// removeVolumeDir deletes the volume directory and everything in it. A
// symbolic link in its place is removed itself, never its target, and
// links inside are unlinked, not followed. A missing directory (no pod
// ever mounted the volume) is fine.
func removeVolumeDir(dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("stat %s: %w", dir, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	return nil
}
