package fake

import (
	"context"
	"fmt"
	"time"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// CreateContainer implements runtime.Runtime.
func (r *Runtime) CreateContainer(ctx context.Context, sandboxID string, cfg runtime.ContainerConfig) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if cfg.Pod == nil || cfg.Container == nil {
		return "", fmt.Errorf("create container: pod and container are required: %w", runtime.ErrCreateContainer)
	}
	plan, err := planExit(cfg.Pod, cfg.Container, cfg.Init)
	if err != nil {
		return "", fmt.Errorf("create container %s: %v: %w", cfg.Container.Name, err, runtime.ErrCreateContainer)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	sb, ok := r.sandboxes[sandboxID]
	if !ok {
		return "", fmt.Errorf("create container %s: sandbox %s: %w", cfg.Container.Name, sandboxID, runtime.ErrNotFound)
	}
	if sb.State != runtime.SandboxReady {
		return "", fmt.Errorf("create container %s: sandbox %s is not ready: %w", cfg.Container.Name, sandboxID, runtime.ErrCreateContainer)
	}
	c := &container{plan: plan, ContainerStatus: runtime.ContainerStatus{
		ID: r.newID('c'), SandboxID: sandboxID, Name: cfg.Container.Name, Attempt: cfg.Attempt, Init: cfg.Init,
		Image: cfg.Container.Image, ImageID: cfg.ImageID, State: runtime.ContainerCreated, CreatedAt: r.now(),
	}}
	r.containers[c.ID] = c
	sb.containers = append(sb.containers, c.ID)
	return c.ID, nil
}

// StartContainer implements runtime.Runtime. A container whose knobs say
// it exits at once is Exited when this returns.
func (r *Runtime) StartContainer(ctx context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[id]
	if !ok {
		return fmt.Errorf("start container %s: %w", id, runtime.ErrNotFound)
	}
	if c.State != runtime.ContainerCreated {
		return fmt.Errorf("start container %s: state is %s, want %s", id, c.State, runtime.ContainerCreated)
	}
	c.State = runtime.ContainerRunning
	c.StartedAt = r.now()
	switch {
	case !c.plan.exits:
	case c.plan.after == 0:
		r.exitLocked(c, c.plan.code, c.plan.reason)
	default:
		c.timer = time.AfterFunc(c.plan.after, func() { r.exitOnItsOwn(id) })
	}
	return nil
}

func (r *Runtime) exitOnItsOwn(id string) {
	r.mu.Lock()
	c, ok := r.containers[id]
	if !ok || c.State != runtime.ContainerRunning {
		r.mu.Unlock()
		return
	}
	r.exitLocked(c, c.plan.code, c.plan.reason)
	fn, sb := r.onExit, c.SandboxID
	r.mu.Unlock()
	if fn != nil {
		fn(sb, id)
	}
}

// exitLocked moves a container to Exited. Callers hold mu.
func (r *Runtime) exitLocked(c *container, code int32, reason string) {
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	c.State = runtime.ContainerExited
	c.ExitCode = code
	c.Reason = reason
	c.FinishedAt = r.now()
}

// StopContainer implements runtime.Runtime: simulated processes honour
// SIGTERM at once and exit 0.
func (r *Runtime) StopContainer(ctx context.Context, id string, grace time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[id]
	if !ok {
		return nil
	}
	switch c.State {
	case runtime.ContainerRunning:
		r.exitLocked(c, 0, runtime.ReasonCompleted)
	case runtime.ContainerCreated:
		// Never started: it ends without having run.
		c.State = runtime.ContainerExited
		c.FinishedAt = r.now()
	}
	return nil
}

// RemoveContainer implements runtime.Runtime.
func (r *Runtime) RemoveContainer(ctx context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[id]
	if !ok {
		return nil
	}
	if c.State == runtime.ContainerRunning {
		return fmt.Errorf("remove container %s: still running, stop it first", id)
	}
	delete(r.containers, id)
	if sb := r.sandboxes[c.SandboxID]; sb != nil {
		for i, cid := range sb.containers {
			if cid == id {
				sb.containers = append(sb.containers[:i], sb.containers[i+1:]...)
				break
			}
		}
	}
	return nil
}

// ListContainers implements runtime.Runtime.
func (r *Runtime) ListContainers(ctx context.Context, sandboxID string) ([]runtime.ContainerStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sb, ok := r.sandboxes[sandboxID]
	if !ok {
		return nil, fmt.Errorf("list containers of sandbox %s: %w", sandboxID, runtime.ErrNotFound)
	}
	out := make([]runtime.ContainerStatus, 0, len(sb.containers))
	for _, id := range sb.containers {
		out = append(out, r.containers[id].ContainerStatus)
	}
	return out, nil
}

// ContainerStatus implements runtime.Runtime.
func (r *Runtime) ContainerStatus(ctx context.Context, id string) (runtime.ContainerStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[id]
	if !ok {
		return runtime.ContainerStatus{}, fmt.Errorf("container %s: %w", id, runtime.ErrNotFound)
	}
	return c.ContainerStatus, nil
}

// ExecSync implements runtime.Execer: every command succeeds in a running
// container, so exec probes pass.
func (r *Runtime) ExecSync(ctx context.Context, id string, cmd []string, _ time.Duration) (runtime.ExecResult, error) {
	st, err := r.ContainerStatus(ctx, id)
	if err != nil {
		return runtime.ExecResult{}, err
	}
	if st.State != runtime.ContainerRunning {
		return runtime.ExecResult{}, fmt.Errorf("exec in container %s: not running", id)
	}
	return runtime.ExecResult{}, nil
}

// Version implements runtime.Runtime.
func (r *Runtime) Version(context.Context) (runtime.Version, error) { return Version, nil }
