package containerd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/containerd/api/types/runc/options"
	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// CreateContainer creates a container in the sandbox from the pod's spec:
// a snapshot of the image, an OCI spec, a log file and a termination log.
func (r *Runtime) CreateContainer(ctx context.Context, sandboxID string, cfg runtime.ContainerConfig) (_ string, retErr error) {
	ctx = r.ctx(ctx)
	s, err := r.loadSandbox(sandboxID)
	if err != nil {
		return "", fmt.Errorf("create container: %w", err)
	}
	c := cfg.Container
	img, err := r.localImage(ctx, c.Image, cfg.ImageID)
	if err != nil {
		return "", fmt.Errorf("create container %s: %w: %w", c.Name, err, runtime.ErrCreateContainer)
	}
	imgSpec, err := img.Spec(ctx)
	if err != nil {
		return "", fmt.Errorf("create container %s: read image config: %w: %w", c.Name, err, runtime.ErrCreateContainer)
	}
	id := newID()
	sbDir := r.sandboxDir(sandboxID)
	termLog := filepath.Join(sbDir, "termination", id)
	logPath := r.logPath(s.Pod, c.Name, cfg.Attempt)
	for _, d := range []string{filepath.Dir(termLog), filepath.Dir(logPath)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", fmt.Errorf("create container %s: %w", c.Name, err)
		}
	}
	if err := os.WriteFile(termLog, nil, 0o666); err != nil {
		return "", fmt.Errorf("create container %s: %w", c.Name, err)
	}
	defer func() {
		if retErr != nil {
			_ = os.Remove(termLog)
		}
	}()
	mounts := make([]specs.Mount, 0, len(cfg.Mounts))
	for _, m := range cfg.Mounts {
		mounts = append(mounts, bindMount(m))
	}
	opts, err := specOpts(specInput{
		Pod: s.Pod, Container: c, Image: imgSpec.Config, SandboxDir: sbDir, NetNS: s.NetNS,
		CgroupsPath: r.podCgroup(sandboxID) + "/" + id, Env: cfg.Env, Mounts: mounts, TerminationLog: termLog, Domain: r.cfg.DNS.Domain,
	})
	if err != nil {
		return "", fmt.Errorf("create container: %w", err)
	}
	if !s.HostNetwork && s.NetNS == "" {
		return "", fmt.Errorf("create container %s: sandbox %s is stopped: %w", c.Name, sandboxID, runtime.ErrCreateContainer)
	}
	imageID := cfg.ImageID
	if imageID == "" {
		imageID = imgSpecDigest(ctx, img)
	}
	labels := map[string]string{
		labelSandbox: sandboxID, labelName: c.Name, labelAttempt: strconv.Itoa(cfg.Attempt),
		labelInit: strconv.FormatBool(cfg.Init), labelImage: c.Image, labelImageID: imageID,
		labelCreated: timeLabel(time.Now()), labelLogPath: logPath, labelTermLog: termLog,
		labelTTY: strconv.FormatBool(c.TTY), labelStdin: strconv.FormatBool(c.Stdin), labelStdinOnce: strconv.FormatBool(c.StdinOnce),
	}
	_, err = r.client.NewContainer(ctx, id,
		containerd.WithSnapshotter(r.snapshotter),
		containerd.WithNewSnapshot(id, img),
		containerd.WithImageName(img.Name()),
		containerd.WithRuntime(runcRuntime, &options.Options{Root: r.cfg.RuncRoot}),
		containerd.WithNewSpec(opts...),
		containerd.WithContainerLabels(labels))
	if err != nil {
		if sn := r.client.SnapshotService(r.snapshotter); sn != nil {
			_ = sn.Remove(ctx, id)
		}
		return "", fmt.Errorf("create container %s: %w: %w", c.Name, err, runtime.ErrCreateContainer)
	}
	return id, nil
}

// withRuncRoot gives the task this agent's runc state directory.
func (r *Runtime) withRuncRoot(_ context.Context, _ *containerd.Client, info *containerd.TaskInfo) error {
	info.Options = &options.Options{Root: r.cfg.RuncRoot}
	return nil
}

// StartContainer starts a created container with its output copied to
// its log file and, for a container with stdin, its stdin FIFO open.
func (r *Runtime) StartContainer(ctx context.Context, id string) (retErr error) {
	ctx = r.ctx(ctx)
	c, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return fmt.Errorf("start container %s: %w", id, notFound(err))
	}
	labels, err := c.Labels(ctx)
	if err != nil {
		return fmt.Errorf("start container %s: %w", id, notFound(err))
	}
	if labels[labelStarted] != "" {
		return fmt.Errorf("start container %s: already started", id)
	}
	lc, err := r.attachLogs(id, labels, false)
	if err != nil {
		return fmt.Errorf("start container %s: %w", id, err)
	}
	task, err := c.NewTask(ctx, func(string) (cio.IO, error) { return lc.taskIO(), nil }, r.withRuncRoot)
	if err != nil {
		r.dropCopier(id)
		return fmt.Errorf("start container %s: %w: %w", id, err, runtime.ErrCreateContainer)
	}
	started := time.Now() // before Start: a quick process may exit at once
	if err := task.Start(ctx); err != nil {
		_, _ = task.Delete(context.WithoutCancel(ctx), containerd.WithProcessKill)
		r.dropCopier(id)
		return fmt.Errorf("start container %s: %w: %w", id, err, runtime.ErrCreateContainer)
	}
	if _, err := c.SetLabels(ctx, map[string]string{labelStarted: timeLabel(started)}); err != nil {
		return fmt.Errorf("start container %s: record start: %w", id, err)
	}
	return nil
}

// StopContainer sends SIGTERM, waits up to grace, then SIGKILL, and
// returns once the container has exited and its exit is recorded.
func (r *Runtime) StopContainer(ctx context.Context, id string, grace time.Duration) error {
	ctx = r.ctx(ctx)
	c, err := r.client.LoadContainer(ctx, id)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stop container %s: %w", id, err)
	}
	task, err := c.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return nil // never started, or exited and recorded
	}
	if err != nil {
		return fmt.Errorf("stop container %s: %w", id, err)
	}
	exited, err := task.Wait(ctx)
	if err != nil {
		return fmt.Errorf("stop container %s: %w", id, err)
	}
	st, err := task.Status(ctx)
	if err != nil {
		return fmt.Errorf("stop container %s: %w", id, notFound(err))
	}
	var es containerd.ExitStatus
	if st.Status == containerd.Stopped {
		es = *containerd.NewExitStatus(st.ExitStatus, st.ExitTime, nil)
	} else {
		if grace > 0 {
			if err := task.Kill(ctx, syscall.SIGTERM); err != nil && !errdefs.IsNotFound(err) {
				return fmt.Errorf("stop container %s: SIGTERM: %w", id, err)
			}
			select {
			case es = <-exited:
			case <-time.After(grace):
			case <-ctx.Done():
				return fmt.Errorf("stop container %s: %w", id, ctx.Err())
			}
		}
		if es.ExitTime().IsZero() {
			if err := task.Kill(ctx, syscall.SIGKILL, containerd.WithKillAll); err != nil && !errdefs.IsNotFound(err) {
				return fmt.Errorf("stop container %s: SIGKILL: %w", id, err)
			}
			select {
			case es = <-exited:
			case <-ctx.Done():
				return fmt.Errorf("stop container %s: %w", id, ctx.Err())
			}
		}
	}
	if _, err := r.finish(ctx, id, es.ExitCode(), es.ExitTime()); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("stop container %s: %w", id, err)
	}
	return nil
}

// finish records a container's exit (once), drains its log copier and
// deletes its task. It returns the container's sandbox ID.
func (r *Runtime) finish(ctx context.Context, id string, code uint32, at time.Time) (string, error) {
	ctx = r.ctx(ctx)
	// The exit event and a stop may finish the same container at once.
	unlock := r.lockContainer(id)
	defer unlock()
	c, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return "", err
	}
	labels, err := c.Labels(ctx)
	if err != nil {
		return "", err
	}
	if labels[labelFinished] == "" {
		if at.IsZero() {
			at = time.Now()
		}
		if _, err := c.SetLabels(ctx, map[string]string{labelFinished: timeLabel(at), labelExitCode: strconv.FormatUint(uint64(code), 10)}); err != nil {
			return "", err
		}
	}
	r.drainCopier(id, 2*time.Second)
	if err := deleteTask(ctx, c); err != nil {
		return "", err
	}
	r.dropCopier(id)
	_ = os.RemoveAll(r.fifoDir(id))
	return labels[labelSandbox], nil
}

// deleteTask deletes the container's task, if any. Containers share shims
// (see shimGroup): a shim whose last other container was deleted at the
// same moment may exit under the call, which then fails with a closed
// connection although containerd can still clean up; so a failed delete
// is retried a few times before it counts.
func deleteTask(ctx context.Context, c containerd.Container) error {
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("delete task: %w", errors.Join(err, ctx.Err()))
			case <-time.After(time.Duration(attempt) * 50 * time.Millisecond):
			}
		}
		var task containerd.Task
		task, err = c.Task(ctx, nil)
		if errdefs.IsNotFound(err) {
			return nil
		}
		if err == nil {
			if _, err = task.Delete(ctx); err == nil || errdefs.IsNotFound(err) {
				return nil
			}
		}
	}
	return fmt.Errorf("delete task: %w", err)
}

// lockContainer serializes finishing one container.
func (r *Runtime) lockContainer(id string) func() {
	v, _ := r.finishing.LoadOrStore(id, &sync.Mutex{})
	mu := v.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// RemoveContainer deletes an exited (or never started) container with
// its snapshot; removing a running one is an error.
func (r *Runtime) RemoveContainer(ctx context.Context, id string) error {
	ctx = r.ctx(ctx)
	c, err := r.client.LoadContainer(ctx, id)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove container %s: %w", id, err)
	}
	if task, err := c.Task(ctx, nil); err == nil {
		st, err := task.Status(ctx)
		if err != nil {
			return fmt.Errorf("remove container %s: %w", id, err)
		}
		if st.Status != containerd.Stopped && st.Status != containerd.Created {
			return fmt.Errorf("remove container %s: it is %s; stop it first", id, st.Status)
		}
		if _, err := r.finish(ctx, id, st.ExitStatus, st.ExitTime); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("remove container %s: %w", id, err)
		}
	}
	labels, _ := c.Labels(ctx)
	if err := c.Delete(ctx, containerd.WithSnapshotCleanup); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("remove container %s: %w", id, err)
	}
	r.dropCopier(id)
	_ = os.RemoveAll(r.fifoDir(id))
	if p := labels[labelTermLog]; p != "" {
		_ = os.Remove(p)
	}
	r.mu.Lock()
	delete(r.cpuLast, id)
	r.mu.Unlock()
	r.finishing.Delete(id)
	return nil
}

// notFound maps containerd's not-found to runtime.ErrNotFound.
func notFound(err error) error {
	if errdefs.IsNotFound(err) {
		return errors.Join(err, runtime.ErrNotFound)
	}
	return err
}
