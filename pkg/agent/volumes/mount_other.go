//go:build !linux

package volumes

import "fmt"

// MountTmpfs is Linux only.
func (SystemMounter) MountTmpfs(target string, _ int64) error {
	return fmt.Errorf("mount tmpfs %s: %w", target, ErrUnsupported)
}

// Unmount is Linux only.
func (SystemMounter) Unmount(target string) error {
	return fmt.Errorf("unmount %s: %w", target, ErrUnsupported)
}
