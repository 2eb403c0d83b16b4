package volumes

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Mounter mounts the tmpfs file systems behind Memory emptyDirs and
// secret volumes.
type Mounter interface {
	// MountTmpfs mounts a tmpfs at the existing directory target; a size
	// of 0 leaves the kernel's default (half the memory).
	MountTmpfs(target string, sizeBytes int64) error
	// Unmount unmounts target.
	Unmount(target string) error
	// IsMountPoint reports whether path is a mount point.
	IsMountPoint(path string) (bool, error)
	// MountPoints lists the mount points at or under dir.
	MountPoints(dir string) ([]string, error)
}

// SystemMounter mounts for real (Linux, root).
type SystemMounter struct{}

// IsMountPoint reads /proc/self/mountinfo.
func (SystemMounter) IsMountPoint(path string) (bool, error) {
	path, err := canonical(path)
	if err != nil {
		return false, err
	}
	mps, err := readMountInfo()
	if err != nil {
		return false, err
	}
	for _, mp := range mps {
		if mp == path {
			return true, nil
		}
	}
	return false, nil
}

// MountPoints reads /proc/self/mountinfo. Mount points are reported with
// the link-free spelling of dir.
func (SystemMounter) MountPoints(dir string) ([]string, error) {
	dir, err := canonical(dir)
	if err != nil {
		return nil, err
	}
	mps, err := readMountInfo()
	if err != nil {
		return nil, err
	}
	return mountsUnder(mps, dir), nil
}

// canonical resolves symlinks in path, as mountinfo spells mount points;
// a missing path is kept as it is.
func canonical(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real, nil
	}
	return abs, nil
}

func mountsUnder(mps []string, dir string) []string {
	var out []string
	seen := map[string]bool{}
	for _, mp := range mps {
		if (mp == dir || strings.HasPrefix(mp, dir+"/")) && !seen[mp] {
			seen[mp] = true
			out = append(out, mp)
		}
	}
	return out
}

func readMountInfo() ([]string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	return parseMountInfo(data)
}

// parseMountInfo returns the mount point (fifth field) of every line.
func parseMountInfo(data []byte) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		out = append(out, unescapeMountPath(fields[4]))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("parse mountinfo: %w", err)
	}
	return out, nil
}

// unescapeMountPath undoes the kernel's octal escapes (\040 for a space).
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// PlainMounter mounts nothing: memory-backed volumes stay plain
// directories. For unprivileged agents and simulated nodes; secrets then
// reach the disk.
type PlainMounter struct{}

func (PlainMounter) MountTmpfs(string, int64) error       { return nil }
func (PlainMounter) Unmount(string) error                 { return nil }
func (PlainMounter) IsMountPoint(string) (bool, error)    { return false, nil }
func (PlainMounter) MountPoints(string) ([]string, error) { return nil, nil }
