package volumes

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// checkHostPath applies a hostPath type: the *OrCreate types create what
// is missing (directory 0755, empty file 0644), the others require the
// kind of file they name; "" checks nothing. Error texts are the
// kubelet's.
func checkHostPath(path string, typ *corev1.HostPathType) (string, error) {
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("hostPath %q must be an absolute path", path)
	}
	t := corev1.HostPathUnset
	if typ != nil {
		t = *typ
	}
	info, statErr := os.Stat(path)
	exists := statErr == nil
	if statErr != nil && !errors.Is(statErr, fs.ErrNotExist) {
		return "", fmt.Errorf("hostPath type check: %w", statErr)
	}
	mode := fs.FileMode(0)
	if exists {
		mode = info.Mode()
	}
	switch t {
	case corev1.HostPathUnset:
		return path, nil
	case corev1.HostPathDirectoryOrCreate:
		if !exists {
			if err := os.MkdirAll(path, 0o755); err != nil {
				return "", fmt.Errorf("hostPath create directory %s: %w", path, err)
			}
			return path, nil
		}
		fallthrough
	case corev1.HostPathDirectory:
		if !exists || !mode.IsDir() {
			return "", fmt.Errorf("hostPath type check failed: %s is not a directory", path)
		}
	case corev1.HostPathFileOrCreate:
		if !exists {
			if err := createEmptyFile(path); err != nil {
				return "", err
			}
			return path, nil
		}
		fallthrough
	case corev1.HostPathFile:
		if !exists || !mode.IsRegular() {
			return "", fmt.Errorf("hostPath type check failed: %s is not a file", path)
		}
	case corev1.HostPathSocket:
		if !exists || mode&fs.ModeSocket == 0 {
			return "", fmt.Errorf("hostPath type check failed: %s is not a socket file", path)
		}
	case corev1.HostPathCharDev:
		if !exists || mode&fs.ModeCharDevice == 0 {
			return "", fmt.Errorf("hostPath type check failed: %s is not a character device", path)
		}
	case corev1.HostPathBlockDev:
		if !exists || mode&fs.ModeDevice == 0 || mode&fs.ModeCharDevice != 0 {
			return "", fmt.Errorf("hostPath type check failed: %s is not a block device", path)
		}
	default:
		return "", fmt.Errorf("hostPath type %q: %w", t, ErrUnsupported)
	}
	return path, nil
}

func createEmptyFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("hostPath create file %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("hostPath create file %s: %w", path, err)
	}
	return f.Close()
}

// setUpClaim resolves a persistentVolumeClaim to its bound
// PersistentVolume. hostPath and local PVs are used in place.
func (m *Manager) setUpClaim(ctx context.Context, pod *corev1.Pod, v *corev1.Volume) (Volume, []string, error) {
	name := v.PersistentVolumeClaim.ClaimName
	pvc, err := m.client.CoreV1().PersistentVolumeClaims(pod.Namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return Volume{}, nil, &NotFoundError{Kind: "persistentvolumeclaim", Name: name}
	}
	if err != nil {
		return Volume{}, nil, fmt.Errorf("get persistentvolumeclaim %s/%s: %w", pod.Namespace, name, err)
	}
	if pvc.Spec.VolumeName == "" || pvc.Status.Phase != corev1.ClaimBound {
		return Volume{}, nil, fmt.Errorf("persistentvolumeclaim %q is not bound", name)
	}
	pv, err := m.client.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return Volume{}, nil, &NotFoundError{Kind: "persistentvolume", Name: pvc.Spec.VolumeName}
	}
	if err != nil {
		return Volume{}, nil, fmt.Errorf("get persistentvolume %s: %w", pvc.Spec.VolumeName, err)
	}
	if ref := pv.Spec.ClaimRef; ref != nil && ref.UID != "" && ref.UID != pvc.UID {
		return Volume{}, nil, fmt.Errorf("persistentvolume %q is bound to another claim (%s/%s)", pv.Name, ref.Namespace, ref.Name)
	}
	if pv.Spec.VolumeMode != nil && *pv.Spec.VolumeMode == corev1.PersistentVolumeBlock {
		return Volume{}, nil, fmt.Errorf("persistentvolume %q: volumeMode Block: %w", pv.Name, ErrUnsupported)
	}
	vol := Volume{Name: v.Name, ReadOnly: v.PersistentVolumeClaim.ReadOnly}
	switch {
	case pv.Spec.HostPath != nil:
		vol.Plugin = PluginHostPath
		vol.HostPath, err = checkHostPath(pv.Spec.HostPath.Path, pv.Spec.HostPath.Type)
	case pv.Spec.Local != nil:
		vol.Plugin = PluginLocal
		vol.HostPath, err = checkLocal(pv.Spec.Local.Path)
	default:
		err = fmt.Errorf("persistentvolume %q: volume source: %w (only hostPath and local)", pv.Name, ErrUnsupported)
	}
	if err != nil {
		return Volume{}, nil, err
	}
	return vol, nil, nil
}

// checkLocal requires a local PV's path to exist (it is never created).
func checkLocal(path string) (string, error) {
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("local volume path %s: %w", path, err)
	}
	return path, nil
}
