package volumes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	corev1 "k8s.io/api/core/v1"
)

// setUpEmptyDir creates the directory (mode 0777, as the kubelet does, so
// that any container user can write) and, for medium Memory, mounts a
// tmpfs sized by sizeLimit, else by the node's allocatable memory.
func (m *Manager) setUpEmptyDir(pod *corev1.Pod, v *corev1.Volume) (Volume, []string, error) {
	dir := m.volumeDir(string(pod.UID), PluginEmptyDir, v.Name)
	vol := Volume{Name: v.Name, Plugin: PluginEmptyDir, HostPath: dir, Managed: true}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return vol, nil, fmt.Errorf("create emptyDir: %w", err)
	}
	switch v.EmptyDir.Medium {
	case corev1.StorageMediumDefault:
	case corev1.StorageMediumMemory:
		if err := m.ensureTmpfs(dir, m.memoryVolumeSize(v.EmptyDir)); err != nil {
			return vol, nil, err
		}
	default:
		return vol, nil, fmt.Errorf("emptyDir medium %q: %w", v.EmptyDir.Medium, ErrUnsupported)
	}
	// After the mount, so the tmpfs root gets the mode too.
	if err := os.Chmod(dir, 0o777); err != nil {
		return vol, nil, fmt.Errorf("chmod emptyDir: %w", err)
	}
	return vol, nil, nil
}

func (m *Manager) memoryVolumeSize(src *corev1.EmptyDirVolumeSource) int64 {
	if src.SizeLimit != nil && src.SizeLimit.Value() > 0 {
		return src.SizeLimit.Value()
	}
	if q, ok := m.opts.NodeAllocatable[corev1.ResourceMemory]; ok {
		return q.Value()
	}
	return 0
}

// Usage is the disk use of one disk-backed emptyDir with a sizeLimit.
type Usage struct {
	Volume   string
	Used     int64 // bytes of allocated blocks
	Limit    int64
	Exceeded bool
}

// EmptyDirUsage measures the pod's disk-backed emptyDirs that have a
// sizeLimit. Nothing enforces the limit here: Kubernetes evicts a pod
// whose emptyDir exceeds it, and that decision is the agent's (an Event,
// an eviction). Memory emptyDirs need no measuring: the tmpfs size is the
// limit.
func (m *Manager) EmptyDirUsage(pod *corev1.Pod) ([]Usage, error) {
	var out []Usage
	for _, v := range pod.Spec.Volumes {
		if v.EmptyDir == nil || v.EmptyDir.Medium != corev1.StorageMediumDefault || v.EmptyDir.SizeLimit == nil {
			continue
		}
		used, err := diskUsage(m.volumeDir(string(pod.UID), PluginEmptyDir, v.Name))
		if err != nil {
			return out, fmt.Errorf("measure emptyDir %q: %w", v.Name, err)
		}
		limit := v.EmptyDir.SizeLimit.Value()
		out = append(out, Usage{Volume: v.Name, Used: used, Limit: limit, Exceeded: used > limit})
	}
	return out, nil
}

// diskUsage sums the allocated blocks under dir, counting hard-linked
// files once. A missing dir uses nothing.
func diskUsage(dir string) (int64, error) {
	var total int64
	seen := map[uint64]bool{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			if st.Nlink > 1 {
				if seen[st.Ino] {
					return nil
				}
				seen[st.Ino] = true
			}
			total += st.Blocks * 512
			return nil
		}
		total += info.Size()
		return nil
	})
	return total, err
}
