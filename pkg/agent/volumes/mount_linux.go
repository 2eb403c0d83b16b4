package volumes

import (
	"errors"
	"fmt"

	"syscall"
)

// MountTmpfs mounts a tmpfs (nosuid, nodev) at target.
func (SystemMounter) MountTmpfs(target string, sizeBytes int64) error {
	data := "mode=0755"
	if sizeBytes > 0 {
		data += fmt.Sprintf(",size=%d", sizeBytes)
	}
	if err := syscall.Mount("tmpfs", target, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, data); err != nil {
		return fmt.Errorf("mount tmpfs %s: %w", target, err)
	}
	return nil
}

// Unmount unmounts target; a busy mount is detached lazily so teardown
// never blocks on a lingering open file. Not mounted counts as done.
func (SystemMounter) Unmount(target string) error {
	err := syscall.Unmount(target, 0)
	if errors.Is(err, syscall.EBUSY) {
		err = syscall.Unmount(target, syscall.MNT_DETACH)
	}
	if err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("unmount %s: %w", target, err)
	}
	return nil
}
