package volumes

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// defaultFileMode is the mode of configMap, secret, downwardAPI and
// projected files when the volume sets none.
const defaultFileMode int32 = 0o644

// NotFoundError is a referenced object that does not exist. Its text is
// the kubelet's (`configmap "x" not found`); it matches ErrNotFound.
type NotFoundError struct {
	Kind string // configmap, secret, persistentvolumeclaim, persistentvolume
	Name string
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s %q not found", e.Kind, e.Name) }

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// ErrNotFound matches every NotFoundError.
var ErrNotFound = errors.New("not found")

func (m *Manager) getConfigMap(ctx context.Context, ns, name string) (*corev1.ConfigMap, error) {
	cm, err := m.client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, &NotFoundError{Kind: "configmap", Name: name}
	}
	if err != nil {
		return nil, fmt.Errorf("get configmap %s/%s: %w", ns, name, err)
	}
	return cm, nil
}

func (m *Manager) getSecret(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	s, err := m.client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, &NotFoundError{Kind: "secret", Name: name}
	}
	if err != nil {
		return nil, fmt.Errorf("get secret %s/%s: %w", ns, name, err)
	}
	return s, nil
}

// payload computes the files of a configMap, secret, downwardAPI or
// projected volume and names its plugin directory.
func (m *Manager) payload(ctx context.Context, pod *corev1.Pod, v *corev1.Volume) (plugin string, files map[string]File, err error) {
	files = map[string]File{}
	switch {
	case v.ConfigMap != nil:
		src := v.ConfigMap
		err = m.addConfigMap(ctx, pod.Namespace, src.Name, src.Items, src.Optional, modeOr(src.DefaultMode, defaultFileMode), files)
		return PluginConfigMap, files, err
	case v.Secret != nil:
		src := v.Secret
		err = m.addSecret(ctx, pod.Namespace, src.SecretName, src.Items, src.Optional, modeOr(src.DefaultMode, defaultFileMode), files)
		return PluginSecret, files, err
	case v.DownwardAPI != nil:
		src := v.DownwardAPI
		err = m.addDownwardAPI(pod, src.Items, modeOr(src.DefaultMode, defaultFileMode), files)
		return PluginDownwardAPI, files, err
	default:
		err = m.addProjected(ctx, pod, v.Projected, files)
		return PluginProjected, files, err
	}
}

func modeOr(mode *int32, def int32) int32 {
	if mode != nil {
		return *mode
	}
	return def
}

func (m *Manager) addConfigMap(ctx context.Context, ns, name string, items []corev1.KeyToPath, optional *bool, mode int32, files map[string]File) error {
	cm, err := m.getConfigMap(ctx, ns, name)
	if errors.Is(err, ErrNotFound) && isOptional(optional) {
		return nil
	}
	if err != nil {
		return err
	}
	data := make(map[string][]byte, len(cm.Data)+len(cm.BinaryData))
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return addKeys(data, items, optional, mode, files, "configmap references non-existent config key: %s")
}

func (m *Manager) addSecret(ctx context.Context, ns, name string, items []corev1.KeyToPath, optional *bool, mode int32, files map[string]File) error {
	s, err := m.getSecret(ctx, ns, name)
	if errors.Is(err, ErrNotFound) && isOptional(optional) {
		return nil
	}
	if err != nil {
		return err
	}
	return addKeys(s.Data, items, optional, mode, files, "references non-existent secret key: %s")
}

func isOptional(b *bool) bool { return b != nil && *b }

// addKeys writes every key, or only items (key → path, mode) when given.
// A missing item key fails unless the source is optional.
func addKeys(data map[string][]byte, items []corev1.KeyToPath, optional *bool, mode int32, files map[string]File, missingFmt string) error {
	if len(items) == 0 {
		for k, v := range data {
			files[k] = File{Data: v, Mode: mode}
		}
		return nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if isOptional(optional) {
				continue
			}
			return fmt.Errorf(missingFmt, it.Key)
		}
		path := it.Path
		if path == "" {
			path = it.Key
		}
		files[path] = File{Data: v, Mode: modeOr(it.Mode, mode)}
	}
	return nil
}

func (m *Manager) addDownwardAPI(pod *corev1.Pod, items []corev1.DownwardAPIVolumeFile, mode int32, files map[string]File) error {
	for _, it := range items {
		var value string
		var err error
		switch {
		case it.FieldRef != nil:
			value, err = podFieldValue(pod, it.FieldRef.FieldPath)
		case it.ResourceFieldRef != nil:
			c := findContainer(pod, it.ResourceFieldRef.ContainerName)
			if c == nil {
				return fmt.Errorf("downwardAPI %s: container %q not found", it.Path, it.ResourceFieldRef.ContainerName)
			}
			value, err = resourceFieldValue(c, it.ResourceFieldRef, m.opts.NodeAllocatable)
		default:
			return fmt.Errorf("downwardAPI %s: neither fieldRef nor resourceFieldRef", it.Path)
		}
		if err != nil {
			return fmt.Errorf("downwardAPI %s: %w", it.Path, err)
		}
		files[it.Path] = File{Data: []byte(value), Mode: modeOr(it.Mode, mode)}
	}
	return nil
}

// addProjected merges the sources into one set of files, all with the
// volume's defaultMode unless an item sets its own. A serviceAccountToken
// source is a token for the pod's service account bound to the pod, kept
// fresh by the resync (see serviceAccountToken).
func (m *Manager) addProjected(ctx context.Context, pod *corev1.Pod, p *corev1.ProjectedVolumeSource, files map[string]File) error {
	mode := modeOr(p.DefaultMode, defaultFileMode)
	for i, src := range p.Sources {
		var err error
		switch {
		case src.ConfigMap != nil:
			err = m.addConfigMap(ctx, pod.Namespace, src.ConfigMap.Name, src.ConfigMap.Items, src.ConfigMap.Optional, mode, files)
		case src.Secret != nil:
			err = m.addSecret(ctx, pod.Namespace, src.Secret.Name, src.Secret.Items, src.Secret.Optional, mode, files)
		case src.DownwardAPI != nil:
			err = m.addDownwardAPI(pod, src.DownwardAPI.Items, mode, files)
		case src.ServiceAccountToken != nil:
			err = m.addServiceAccountToken(ctx, pod, src.ServiceAccountToken, mode, files)
		case src.ClusterTrustBundle != nil:
			err = fmt.Errorf("projected source clusterTrustBundle: %w", ErrUnsupported)
		default:
			err = fmt.Errorf("projected source %d: %w", i, ErrUnsupported)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (m *Manager) addServiceAccountToken(ctx context.Context, pod *corev1.Pod, src *corev1.ServiceAccountTokenProjection, mode int32, files map[string]File) error {
	token, err := m.serviceAccountToken(ctx, pod, src)
	if err != nil {
		return fmt.Errorf("serviceAccountToken %s: %w", src.Path, err)
	}
	files[src.Path] = File{Data: []byte(token), Mode: mode}
	return nil
}

func findContainer(pod *corev1.Pod, name string) *corev1.Container {
	for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}
