package containerd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// sandboxRecord is a sandbox's file, <DataDir>/sandboxes/<id>/sandbox.json.
// The directory also holds the pod's hosts, hostname and resolv.conf.
type sandboxRecord struct {
	ID          string               `json:"id"`
	IP          string               `json:"ip,omitempty"`
	NetNS       string               `json:"netns,omitempty"`
	HostNetwork bool                 `json:"hostNetwork,omitempty"`
	State       runtime.SandboxState `json:"state"`
	CreatedAt   time.Time            `json:"createdAt"`
	Pod         *corev1.Pod          `json:"pod"`
}

func (s *sandboxRecord) sandbox() runtime.Sandbox {
	return runtime.Sandbox{ID: s.ID, PodUID: string(s.Pod.UID), Namespace: s.Pod.Namespace, Name: s.Pod.Name, IP: s.IP, State: s.State, CreatedAt: s.CreatedAt}
}

func (r *Runtime) sandboxDir(id string) string { return filepath.Join(r.cfg.DataDir, "sandboxes", id) }

func (r *Runtime) loadSandbox(id string) (*sandboxRecord, error) {
	if id == "" || filepath.Base(id) != id {
		return nil, fmt.Errorf("sandbox %q: %w", id, runtime.ErrNotFound)
	}
	b, err := os.ReadFile(filepath.Join(r.sandboxDir(id), "sandbox.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("sandbox %s: %w", id, runtime.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sandbox %s: %w", id, err)
	}
	var s sandboxRecord
	if err := json.Unmarshal(b, &s); err != nil || s.Pod == nil {
		return nil, fmt.Errorf("sandbox %s: corrupt record: %v", id, err)
	}
	return &s, nil
}

func (r *Runtime) saveSandbox(s *sandboxRecord) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	dir := r.sandboxDir(s.ID)
	tmp := filepath.Join(dir, "sandbox.json.tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("save sandbox %s: %w", s.ID, err)
	}
	return os.Rename(tmp, filepath.Join(dir, "sandbox.json"))
}

// RunPodSandbox creates the pod's network namespace and address and
// writes its hosts, hostname and resolv.conf.
func (r *Runtime) RunPodSandbox(ctx context.Context, pod *corev1.Pod) (_ runtime.Sandbox, retErr error) {
	s := &sandboxRecord{ID: newID(), State: runtime.SandboxReady, CreatedAt: time.Now(), Pod: pod.DeepCopy(), HostNetwork: pod.Spec.HostNetwork}
	dir := r.sandboxDir(s.ID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return runtime.Sandbox{}, fmt.Errorf("run sandbox: %w", err)
	}
	defer func() {
		if retErr != nil {
			r.releaseNetwork(context.WithoutCancel(ctx), s)
			_ = os.RemoveAll(dir)
		}
	}()
	if !s.HostNetwork {
		ns, err := r.cfg.Network.CreateNetNS(ctx, s.ID)
		if err != nil {
			return runtime.Sandbox{}, fmt.Errorf("run sandbox for %s/%s: %w", pod.Namespace, pod.Name, err)
		}
		s.NetNS = ns
		ip, err := r.cfg.Network.Setup(ctx, s.ID, ns, pod)
		if err != nil {
			return runtime.Sandbox{}, fmt.Errorf("run sandbox for %s/%s: network: %w", pod.Namespace, pod.Name, err)
		}
		s.IP = ip.String()
	}
	if err := writePodFiles(dir, pod, s.IP, r.cfg.DNS); err != nil {
		return runtime.Sandbox{}, fmt.Errorf("run sandbox for %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	if err := r.saveSandbox(s); err != nil {
		return runtime.Sandbox{}, err
	}
	return s.sandbox(), nil
}

// releaseNetwork tears down the sandbox's network and namespace.
func (r *Runtime) releaseNetwork(ctx context.Context, s *sandboxRecord) error {
	if s.HostNetwork || s.NetNS == "" {
		return nil
	}
	err := r.cfg.Network.Teardown(ctx, s.ID, s.NetNS, s.Pod)
	if err == nil {
		err = r.cfg.Network.DeleteNetNS(ctx, s.NetNS)
	}
	if err != nil {
		return fmt.Errorf("release network of sandbox %s: %w", s.ID, err)
	}
	s.NetNS = ""
	return nil
}

// StopPodSandbox kills the sandbox's containers and releases its network.
func (r *Runtime) StopPodSandbox(ctx context.Context, id string) error {
	s, err := r.loadSandbox(id)
	if errors.Is(err, runtime.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	list, err := r.ListContainers(ctx, id)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(list))
	for i, c := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = r.StopContainer(ctx, c.ID, 0)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stop sandbox %s: %w", id, err)
	}
	r.sandboxL.Lock()
	defer r.sandboxL.Unlock()
	if err := r.releaseNetwork(ctx, s); err != nil {
		return err
	}
	s.State = runtime.SandboxNotReady
	return r.saveSandbox(s)
}

// RemovePodSandbox stops the sandbox if needed and removes its containers,
// cgroups, logs and files.
func (r *Runtime) RemovePodSandbox(ctx context.Context, id string) error {
	s, err := r.loadSandbox(id)
	if errors.Is(err, runtime.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := r.StopPodSandbox(ctx, id); err != nil {
		return err
	}
	list, err := r.ListContainers(ctx, id)
	if err != nil {
		return err
	}
	for _, c := range list {
		if err := r.RemoveContainer(ctx, c.ID); err != nil {
			return fmt.Errorf("remove sandbox %s: %w", id, err)
		}
	}
	removeCgroup(r.podCgroup(id))
	if err := os.RemoveAll(r.podLogDir(s.Pod)); err != nil {
		return fmt.Errorf("remove sandbox %s: %w", id, err)
	}
	if err := os.RemoveAll(r.sandboxDir(id)); err != nil {
		return fmt.Errorf("remove sandbox %s: %w", id, err)
	}
	return nil
}

// ListPodSandboxes returns every sandbox recorded under DataDir, oldest
// first.
func (r *Runtime) ListPodSandboxes(_ context.Context) ([]runtime.Sandbox, error) {
	entries, err := os.ReadDir(filepath.Join(r.cfg.DataDir, "sandboxes"))
	if err != nil {
		return nil, fmt.Errorf("list sandboxes: %w", err)
	}
	var out []runtime.Sandbox
	for _, e := range entries {
		s, err := r.loadSandbox(e.Name())
		if errors.Is(err, runtime.ErrNotFound) {
			continue // being created or removed
		}
		if err != nil {
			return nil, err
		}
		out = append(out, s.sandbox())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}
