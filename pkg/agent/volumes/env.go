package volumes

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// ReasonInvalidEnvironmentVariableNames is the Event reason for envFrom
// keys that were skipped.
const ReasonInvalidEnvironmentVariableNames = "InvalidEnvironmentVariableNames"

// ResolveEnv computes container c's environment as "NAME=value" strings:
// envFrom sources first (later sources win), then env in order ($(VAR)
// references expand against what is defined so far and the service
// variables), then the service link variables not otherwise defined.
//
// Errors are the kubelet's texts for CreateContainerConfigError
// (`configmap "x" not found`, `couldn't find key k in ConfigMap ns/x`).
// status.podIP and status.hostIP are read from pod: the caller passes a pod
// whose status carries the sandbox's address.
func (m *Manager) ResolveEnv(ctx context.Context, pod *corev1.Pod, c *corev1.Container) ([]string, error) {
	services, err := m.serviceEnv(ctx, pod)
	if err != nil {
		return nil, err
	}
	env := newOrderedEnv()
	refs := &refCache{m: m, ns: pod.Namespace}

	for _, from := range c.EnvFrom {
		if err := m.addEnvFrom(ctx, pod, refs, from, env); err != nil {
			return nil, err
		}
	}
	lookup := func(name string) (string, bool) {
		if v, ok := env.values[name]; ok {
			return v, true
		}
		v, ok := services[name]
		return v, ok
	}
	for _, ev := range c.Env {
		val, skip, err := m.envValue(ctx, pod, c, refs, ev, lookup)
		if err != nil {
			return nil, err
		}
		if !skip {
			env.set(ev.Name, val)
		}
	}

	out := env.list()
	names := make([]string, 0, len(services))
	for k := range services {
		if _, defined := env.values[k]; !defined {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		out = append(out, k+"="+services[k])
	}
	return out, nil
}

// envValue computes one env entry; skip is true for a missing optional
// reference, which defines nothing.
func (m *Manager) envValue(ctx context.Context, pod *corev1.Pod, c *corev1.Container, refs *refCache, ev corev1.EnvVar, lookup func(string) (string, bool)) (val string, skip bool, err error) {
	if ev.Value != "" || ev.ValueFrom == nil {
		return Expand(ev.Value, lookup), false, nil
	}
	from := ev.ValueFrom
	switch {
	case from.FieldRef != nil:
		val, err = podFieldValue(pod, from.FieldRef.FieldPath)
		return val, false, err
	case from.ResourceFieldRef != nil:
		target := c
		if n := from.ResourceFieldRef.ContainerName; n != "" && n != c.Name {
			if target = findContainer(pod, n); target == nil {
				return "", false, fmt.Errorf("env %s: container %q not found", ev.Name, n)
			}
		}
		val, err = resourceFieldValue(target, from.ResourceFieldRef, m.opts.NodeAllocatable)
		return val, false, err
	case from.ConfigMapKeyRef != nil:
		ref := from.ConfigMapKeyRef
		cm, err := refs.configMap(ctx, ref.Name)
		if err != nil {
			if errors.Is(err, ErrNotFound) && isOptional(ref.Optional) {
				return "", true, nil
			}
			return "", false, err
		}
		v, ok := cm.Data[ref.Key]
		if !ok {
			if isOptional(ref.Optional) {
				return "", true, nil
			}
			return "", false, fmt.Errorf("couldn't find key %s in ConfigMap %s/%s", ref.Key, pod.Namespace, ref.Name)
		}
		return v, false, nil
	case from.SecretKeyRef != nil:
		ref := from.SecretKeyRef
		s, err := refs.secret(ctx, ref.Name)
		if err != nil {
			if errors.Is(err, ErrNotFound) && isOptional(ref.Optional) {
				return "", true, nil
			}
			return "", false, err
		}
		v, ok := s.Data[ref.Key]
		if !ok {
			if isOptional(ref.Optional) {
				return "", true, nil
			}
			return "", false, fmt.Errorf("couldn't find key %s in Secret %s/%s", ref.Key, pod.Namespace, ref.Name)
		}
		return string(v), false, nil
	default:
		return "", false, fmt.Errorf("env %s: value source: %w", ev.Name, ErrUnsupported)
	}
}

func (m *Manager) addEnvFrom(ctx context.Context, pod *corev1.Pod, refs *refCache, from corev1.EnvFromSource, env *orderedEnv) error {
	var data map[string]string
	var kind, name string
	switch {
	case from.ConfigMapRef != nil:
		kind, name = "configMap", from.ConfigMapRef.Name
		cm, err := refs.configMap(ctx, name)
		if err != nil {
			if errors.Is(err, ErrNotFound) && isOptional(from.ConfigMapRef.Optional) {
				return nil
			}
			return err
		}
		data = cm.Data
	case from.SecretRef != nil:
		kind, name = "secret", from.SecretRef.Name
		s, err := refs.secret(ctx, name)
		if err != nil {
			if errors.Is(err, ErrNotFound) && isOptional(from.SecretRef.Optional) {
				return nil
			}
			return err
		}
		data = make(map[string]string, len(s.Data))
		for k, v := range s.Data {
			data[k] = string(v)
		}
	default:
		return fmt.Errorf("envFrom source: %w", ErrUnsupported)
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var invalid []string
	for _, k := range keys {
		n := from.Prefix + k
		if !validEnvName(n) {
			invalid = append(invalid, n)
			continue
		}
		env.set(n, data[k])
	}
	if len(invalid) > 0 && m.opts.Recorder != nil {
		m.opts.Recorder.Eventf(pod, corev1.EventTypeWarning, ReasonInvalidEnvironmentVariableNames,
			"Keys [%s] from the EnvFrom %s %s/%s were skipped since they are considered invalid environment variable names.",
			strings.Join(invalid, ", "), kind, pod.Namespace, name)
	}
	return nil
}

// validEnvName follows Kubernetes' relaxed rule (the default since
// v1.34): printable ASCII except '='.
func validEnvName(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		if n[i] < ' ' || n[i] > '~' || n[i] == '=' {
			return false
		}
	}
	return true
}

// refCache reads each ConfigMap and Secret once per ResolveEnv call, so
// all variables of a container see one version.
type refCache struct {
	m          *Manager
	ns         string
	configMaps map[string]cachedRef[corev1.ConfigMap]
	secrets    map[string]cachedRef[corev1.Secret]
}

type cachedRef[T any] struct {
	obj *T
	err error
}

func (r *refCache) configMap(ctx context.Context, name string) (*corev1.ConfigMap, error) {
	if c, ok := r.configMaps[name]; ok {
		return c.obj, c.err
	}
	cm, err := r.m.getConfigMap(ctx, r.ns, name)
	if r.configMaps == nil {
		r.configMaps = map[string]cachedRef[corev1.ConfigMap]{}
	}
	r.configMaps[name] = cachedRef[corev1.ConfigMap]{cm, err}
	return cm, err
}

func (r *refCache) secret(ctx context.Context, name string) (*corev1.Secret, error) {
	if c, ok := r.secrets[name]; ok {
		return c.obj, c.err
	}
	s, err := r.m.getSecret(ctx, r.ns, name)
	if r.secrets == nil {
		r.secrets = map[string]cachedRef[corev1.Secret]{}
	}
	r.secrets[name] = cachedRef[corev1.Secret]{s, err}
	return s, err
}

// orderedEnv keeps the first position of each name and its last value.
type orderedEnv struct {
	names  []string
	values map[string]string
}

func newOrderedEnv() *orderedEnv { return &orderedEnv{values: map[string]string{}} }

func (e *orderedEnv) set(name, val string) {
	if _, ok := e.values[name]; !ok {
		e.names = append(e.names, name)
	}
	e.values[name] = val
}

func (e *orderedEnv) list() []string {
	out := make([]string, 0, len(e.names))
	for _, n := range e.names {
		out = append(out, n+"="+e.values[n])
	}
	return out
}
