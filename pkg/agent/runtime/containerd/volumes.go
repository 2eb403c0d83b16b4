package containerd

import (
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// volumeMounts resolves the container's volume mounts to bind mounts.
func (r *Runtime) volumeMounts(s *sandboxRecord, cfg runtime.ContainerConfig) ([]specs.Mount, error) {
	var out []specs.Mount
	for _, m := range cfg.Container.VolumeMounts {
		dir, err := r.volumeDir(s.Pod, m.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, volumeMount(m, dir))
	}
	return out, nil
}

func (r *Runtime) volumeDir(pod *corev1.Pod, name string) (string, error) {
	if r.cfg.VolumeDir != nil {
		return r.cfg.VolumeDir(pod, name)
	}
	for _, v := range pod.Spec.Volumes {
		if v.Name != name {
			continue
		}
		switch {
		case v.HostPath != nil:
			return v.HostPath.Path, nil
		case v.EmptyDir != nil:
			dir := filepath.Join(r.cfg.DataDir, "pods", string(pod.UID), "volumes", name)
			if err := os.MkdirAll(dir, 0o777); err != nil {
				return "", err
			}
			return dir, nil
		}
		return "", fmt.Errorf("volume %q: only hostPath and emptyDir volumes are supported without the agent", name)
	}
	return "", fmt.Errorf("volume %q is not defined in the pod", name)
}
