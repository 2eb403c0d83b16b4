package agent

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/distribution/reference"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// dockerConfigEntry is one registry's credentials in a
// kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg secret.
type dockerConfigEntry struct {
	Username      string `json:"username"`
	Password      string `json:"password"`
	Auth          string `json:"auth"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

// pullAuth returns the credentials of the pod's imagePullSecrets for the
// image's registry, or nil. Secrets that are missing or of another type
// are skipped with a log line, as the kubelet does: the pull is then
// tried without them.
func (a *Agent) pullAuth(ctx context.Context, pod *corev1.Pod, image string) *runtime.Auth {
	if len(pod.Spec.ImagePullSecrets) == 0 {
		return nil
	}
	host, ok := imageRegistry(image)
	if !ok {
		return nil
	}
	for _, ref := range pod.Spec.ImagePullSecrets {
		if ref.Name == "" {
			continue
		}
		s, err := a.client.CoreV1().Secrets(pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			a.opts.Logger.Warn("image pull secret", "pod", podKey(pod), "secret", ref.Name, "err", err)
			continue
		}
		entries, err := dockerConfigEntries(s)
		if err != nil {
			a.opts.Logger.Warn("image pull secret", "pod", podKey(pod), "secret", ref.Name, "err", err)
			continue
		}
		if auth := authFor(entries, host); auth != nil {
			return auth
		}
	}
	return nil
}

// imageRegistry is the registry host of an image reference
// ("busybox" → "docker.io").
func imageRegistry(image string) (string, bool) {
	named, err := reference.ParseDockerRef(image)
	if err != nil {
		return "", false
	}
	return reference.Domain(named), true
}

// dockerConfigEntries reads the registry credentials of a secret of type
// kubernetes.io/dockerconfigjson ({"auths": {...}}) or the legacy
// kubernetes.io/dockercfg (the map itself).
func dockerConfigEntries(s *corev1.Secret) (map[string]dockerConfigEntry, error) {
	switch s.Type {
	case corev1.SecretTypeDockerConfigJson:
		var cfg struct {
			Auths map[string]dockerConfigEntry `json:"auths"`
		}
		if err := json.Unmarshal(s.Data[corev1.DockerConfigJsonKey], &cfg); err != nil {
			return nil, fmt.Errorf("secret %s/%s: %s: %w", s.Namespace, s.Name, corev1.DockerConfigJsonKey, err)
		}
		return cfg.Auths, nil
	case corev1.SecretTypeDockercfg:
		var m map[string]dockerConfigEntry
		if err := json.Unmarshal(s.Data[corev1.DockerConfigKey], &m); err != nil {
			return nil, fmt.Errorf("secret %s/%s: %s: %w", s.Namespace, s.Name, corev1.DockerConfigKey, err)
		}
		return m, nil
	}
	return nil, fmt.Errorf("secret %s/%s is of type %q, not %q", s.Namespace, s.Name, s.Type, corev1.SecretTypeDockerConfigJson)
}

// authFor picks the entry whose key names host. Keys may carry a scheme
// and a path ("https://index.docker.io/v1/"); Docker Hub has several
// names.
func authFor(entries map[string]dockerConfigEntry, host string) *runtime.Auth {
	want := canonicalRegistry(host)
	for key, e := range entries {
		if canonicalRegistry(registryOfKey(key)) != want {
			continue
		}
		auth := &runtime.Auth{Username: e.Username, Password: e.Password, IdentityToken: e.IdentityToken, RegistryToken: e.RegistryToken}
		if e.Auth != "" && auth.Username == "" {
			if b, err := base64.StdEncoding.DecodeString(e.Auth); err == nil {
				auth.Username, auth.Password, _ = strings.Cut(string(b), ":")
			}
		}
		return auth
	}
	return nil
}

func registryOfKey(key string) string {
	if _, rest, ok := strings.Cut(key, "://"); ok {
		key = rest
	}
	host, _, _ := strings.Cut(key, "/")
	return strings.ToLower(host)
}

func canonicalRegistry(host string) string {
	switch host {
	case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		return "docker.io"
	}
	return strings.ToLower(host)
}
