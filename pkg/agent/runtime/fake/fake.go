package fake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// Version is what a fake runtime reports.
var Version = runtime.Version{RuntimeName: "sim", RuntimeVersion: "1.0.0"}

// Options configure one simulated node's runtime.
type Options struct {
	// PodCIDR is where pod addresses come from (a /16 to /30 IPv4 CIDR).
	PodCIDR netip.Prefix
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Runtime is one simulated node's runtime. The zero value is not usable;
// call New.
type Runtime struct {
	now func() time.Time

	mu         sync.Mutex
	pool       *ipPool
	seq        uint64
	sandboxes  map[string]*sandbox
	containers map[string]*container
	onExit     func(sandboxID, containerID string)
}

type sandbox struct {
	runtime.Sandbox
	containers []string
}

type container struct {
	runtime.ContainerStatus
	plan  exitPlan
	timer *time.Timer
}

var (
	_ runtime.Runtime      = (*Runtime)(nil)
	_ runtime.ExitNotifier = (*Runtime)(nil)
	_ runtime.Execer       = (*Runtime)(nil)
)

// New returns an empty runtime.
func New(opts Options) (*Runtime, error) {
	pool, err := newIPPool(opts.PodCIDR)
	if err != nil {
		return nil, err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Runtime{now: now, pool: pool, sandboxes: map[string]*sandbox{}, containers: map[string]*container{}}, nil
}

// newID returns a short ID unique within this runtime. Callers hold mu.
func (r *Runtime) newID(kind byte) string {
	r.seq++
	return string(kind) + strconv.FormatUint(r.seq, 16)
}

// NotifyExits implements runtime.ExitNotifier.
func (r *Runtime) NotifyExits(fn func(sandboxID, containerID string)) {
	r.mu.Lock()
	r.onExit = fn
	r.mu.Unlock()
}

// RunPodSandbox implements runtime.Runtime.
func (r *Runtime) RunPodSandbox(ctx context.Context, pod *corev1.Pod) (runtime.Sandbox, error) {
	if err := ctx.Err(); err != nil {
		return runtime.Sandbox{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var ip string
	if !pod.Spec.HostNetwork {
		var err error
		if ip, err = r.pool.allocate(); err != nil {
			return runtime.Sandbox{}, fmt.Errorf("run sandbox for %s/%s: %w", pod.Namespace, pod.Name, err)
		}
	}
	sb := &sandbox{Sandbox: runtime.Sandbox{
		ID: r.newID('s'), PodUID: string(pod.UID), Namespace: pod.Namespace, Name: pod.Name,
		IP: ip, State: runtime.SandboxReady, CreatedAt: r.now(),
	}}
	r.sandboxes[sb.ID] = sb
	return sb.Sandbox, nil
}

// StopPodSandbox implements runtime.Runtime.
func (r *Runtime) StopPodSandbox(ctx context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	sb, ok := r.sandboxes[id]
	if !ok {
		return nil
	}
	for _, cid := range sb.containers {
		if c := r.containers[cid]; c != nil && c.State == runtime.ContainerRunning {
			r.exitLocked(c, 137, runtime.ReasonError)
		}
	}
	if sb.State == runtime.SandboxReady {
		r.pool.release(sb.IP)
		sb.State = runtime.SandboxNotReady
	}
	return nil
}

// RemovePodSandbox implements runtime.Runtime.
func (r *Runtime) RemovePodSandbox(ctx context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	sb, ok := r.sandboxes[id]
	if !ok {
		return nil
	}
	if sb.State == runtime.SandboxReady {
		return fmt.Errorf("remove sandbox %s: still ready, stop it first", id)
	}
	for _, cid := range sb.containers {
		if c := r.containers[cid]; c != nil && c.timer != nil {
			c.timer.Stop()
		}
		delete(r.containers, cid)
	}
	delete(r.sandboxes, id)
	return nil
}

// ListPodSandboxes implements runtime.Runtime.
func (r *Runtime) ListPodSandboxes(ctx context.Context) ([]runtime.Sandbox, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]runtime.Sandbox, 0, len(r.sandboxes))
	for _, sb := range r.sandboxes {
		out = append(out, sb.Sandbox)
	}
	return out, nil
}

// PullImage implements runtime.Runtime. The image ID is a digest of the
// reference, so it is stable for a name.
func (r *Runtime) PullImage(ctx context.Context, ref string, _ *runtime.Auth) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if ref == "" || strings.ContainsAny(ref, " \t\n") || strings.HasSuffix(ref, ":") {
		return "", fmt.Errorf("pull %q: %w", ref, runtime.ErrInvalidImageName)
	}
	if strings.Contains(ref, "fail-pull") {
		return "", fmt.Errorf("pull %s: simulated registry refused the image: %w", ref, runtime.ErrImagePull)
	}
	sum := sha256.Sum256([]byte(ref))
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// PoolFree reports how many pod addresses are still free.
func (r *Runtime) PoolFree() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pool.free()
}
