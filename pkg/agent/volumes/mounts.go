package volumes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Mount is one bind mount of a container.
type Mount struct {
	// Name is the volume's name.
	Name string
	// HostPath is the source on the host (a directory or a file).
	HostPath string
	// ContainerPath is the volumeMount's mountPath.
	ContainerPath string
	ReadOnly      bool
	// Propagation is the volumeMount's mode, None when unset: None maps to
	// rprivate, HostToContainer to rslave, Bidirectional to rshared.
	Propagation corev1.MountPropagationMode
}

// MountsFor turns the container's volumeMounts into bind mounts over the
// volumes SetUp prepared. env is the container's resolved environment
// (ResolveEnv), against which subPathExpr is expanded.
//
// A subPath must be relative and free of ".."; after symlinks are followed
// it must stay inside its volume. A missing subPath is created as a
// directory (0750) in writable volumes; in content volumes (configMap,
// secret, downwardAPI, projected) it is an error. Like the kubelet's, a
// subPath mount of a content volume does not see later updates.
func (m *Manager) MountsFor(pod *corev1.Pod, c *corev1.Container, v Volumes, env []string) ([]Mount, error) {
	if len(c.VolumeDevices) > 0 {
		return nil, fmt.Errorf("container %q: volumeDevices: %w", c.Name, ErrUnsupported)
	}
	var envMap map[string]string
	mounts := make([]Mount, 0, len(c.VolumeMounts))
	for _, vm := range c.VolumeMounts {
		vol, ok := v.Items[vm.Name]
		if !ok {
			return nil, fmt.Errorf("cannot find volume %q to mount into container %q", vm.Name, c.Name)
		}
		subPath := vm.SubPath
		if vm.SubPathExpr != "" {
			if envMap == nil {
				envMap = envToMap(env)
			}
			subPath = Expand(vm.SubPathExpr, func(name string) (string, bool) {
				val, ok := envMap[name]
				return val, ok
			})
		}
		host := vol.HostPath
		if subPath != "" {
			var err error
			host, err = resolveSubPath(vol, subPath)
			if err != nil {
				return nil, fmt.Errorf("failed to prepare subPath for volumeMount %q of container %q: %w", vm.Name, c.Name, err)
			}
		}
		prop := corev1.MountPropagationNone
		if vm.MountPropagation != nil {
			prop = *vm.MountPropagation
		}
		switch prop {
		case corev1.MountPropagationNone, corev1.MountPropagationHostToContainer:
		case corev1.MountPropagationBidirectional:
			if c.SecurityContext == nil || c.SecurityContext.Privileged == nil || !*c.SecurityContext.Privileged {
				return nil, fmt.Errorf("volumeMount %q of container %q: Bidirectional mount propagation is available only to privileged containers", vm.Name, c.Name)
			}
		default:
			return nil, fmt.Errorf("volumeMount %q: invalid mount propagation %q", vm.Name, prop)
		}
		mounts = append(mounts, Mount{
			Name:          vm.Name,
			HostPath:      host,
			ContainerPath: vm.MountPath,
			ReadOnly:      vm.ReadOnly || vol.ReadOnly,
			Propagation:   prop,
		})
	}
	return mounts, nil
}

func envToMap(env []string) map[string]string {
	out := make(map[string]string, len(env))
	for _, kv := range env {
		k, val, _ := strings.Cut(kv, "=")
		out[k] = val
	}
	return out
}

// resolveSubPath returns the host path of subPath inside vol.
func resolveSubPath(vol Volume, subPath string) (string, error) {
	if filepath.IsAbs(subPath) {
		return "", fmt.Errorf("subPath %q must be a relative path", subPath)
	}
	for _, el := range strings.Split(filepath.ToSlash(subPath), "/") {
		if el == ".." {
			return "", fmt.Errorf("subPath %q must not contain '..'", subPath)
		}
	}
	root, err := filepath.EvalSymlinks(vol.HostPath)
	if err != nil {
		return "", fmt.Errorf("volume path %s: %w", vol.HostPath, err)
	}
	full := filepath.Join(vol.HostPath, subPath)
	if _, err := os.Lstat(full); errors.Is(err, fs.ErrNotExist) {
		if vol.ReadOnly && vol.Managed {
			return "", fmt.Errorf("subPath %q does not exist in volume %q", subPath, vol.Name)
		}
		// Create below the resolved root so a symlink in the volume cannot
		// make the agent create directories elsewhere on the host.
		if err := mkdirInside(root, subPath); err != nil {
			return "", err
		}
	} else if err != nil {
		return "", fmt.Errorf("subPath %q: %w", subPath, err)
	}
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		return "", fmt.Errorf("subPath %q: %w", subPath, err)
	}
	if real != root && !strings.HasPrefix(real, root+string(filepath.Separator)) {
		return "", fmt.Errorf("subPath %q resolves to %s, outside the volume", subPath, real)
	}
	return real, nil
}

// mkdirInside creates root/subPath one element at a time, refusing to
// follow a symlink that leaves root.
func mkdirInside(root, subPath string) error {
	cur := root
	for _, el := range strings.Split(filepath.ToSlash(filepath.Clean(subPath)), "/") {
		if el == "" || el == "." {
			continue
		}
		next := filepath.Join(cur, el)
		if _, err := os.Lstat(next); errors.Is(err, fs.ErrNotExist) {
			if err := os.Mkdir(next, 0o750); err != nil && !errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("create subPath %q: %w", subPath, err)
			}
		} else if err != nil {
			return fmt.Errorf("create subPath %q: %w", subPath, err)
		}
		real, err := filepath.EvalSymlinks(next)
		if err != nil {
			return fmt.Errorf("create subPath %q: %w", subPath, err)
		}
		if real != root && !strings.HasPrefix(real, root+string(filepath.Separator)) {
			return fmt.Errorf("subPath %q resolves to %s, outside the volume", subPath, real)
		}
		cur = real
	}
	return nil
}
