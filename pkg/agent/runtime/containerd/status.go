package containerd

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/errdefs"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// ListContainers returns the sandbox's containers in creation order.
func (r *Runtime) ListContainers(ctx context.Context, sandboxID string) ([]runtime.ContainerStatus, error) {
	ctx = r.ctx(ctx)
	if _, err := r.loadSandbox(sandboxID); err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	cs, err := r.client.Containers(ctx, fmt.Sprintf(`labels.%q==%q`, labelSandbox, sandboxID))
	if err != nil {
		return nil, fmt.Errorf("list containers of %s: %w", sandboxID, err)
	}
	out := make([]runtime.ContainerStatus, 0, len(cs))
	for _, c := range cs {
		st, err := r.status(ctx, c)
		if errdefs.IsNotFound(err) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

// ContainerStatus reports one container's state.
func (r *Runtime) ContainerStatus(ctx context.Context, id string) (runtime.ContainerStatus, error) {
	ctx = r.ctx(ctx)
	c, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return runtime.ContainerStatus{}, fmt.Errorf("container %s: %w", id, notFound(err))
	}
	st, err := r.status(ctx, c)
	if err != nil {
		return runtime.ContainerStatus{}, fmt.Errorf("container %s: %w", id, notFound(err))
	}
	return st, nil
}

func (r *Runtime) status(ctx context.Context, c containerd.Container) (runtime.ContainerStatus, error) {
	info, err := c.Info(ctx, containerd.WithoutRefreshedMetadata)
	if err != nil {
		return runtime.ContainerStatus{}, err
	}
	l := info.Labels
	attempt, _ := strconv.Atoi(l[labelAttempt])
	st := runtime.ContainerStatus{
		ID: c.ID(), SandboxID: l[labelSandbox], Name: l[labelName], Attempt: attempt, Init: l[labelInit] == "true",
		Image: l[labelImage], ImageID: l[labelImageID], State: runtime.ContainerCreated,
		CreatedAt: parseTimeLabel(l[labelCreated]), StartedAt: parseTimeLabel(l[labelStarted]),
	}
	if st.CreatedAt.IsZero() {
		st.CreatedAt = info.CreatedAt
	}
	code, finished := l[labelExitCode], parseTimeLabel(l[labelFinished])
	if finished.IsZero() {
		task, err := c.Task(ctx, nil)
		switch {
		case err == nil:
			ts, err := task.Status(ctx)
			if err != nil && !errdefs.IsNotFound(err) {
				return runtime.ContainerStatus{}, err
			}
			switch ts.Status {
			case containerd.Running, containerd.Paused, containerd.Pausing:
				st.State = runtime.ContainerRunning
				return st, nil
			case containerd.Stopped:
				code, finished = strconv.FormatUint(uint64(ts.ExitStatus), 10), ts.ExitTime
			default:
				if st.StartedAt.IsZero() {
					return st, nil
				}
				st.State = runtime.ContainerUnknown
				return st, nil
			}
		case !errdefs.IsNotFound(err):
			return runtime.ContainerStatus{}, err
		case st.StartedAt.IsZero():
			return st, nil // created, never started
		default:
			// Started, no task and no recorded exit: containerd lost the
			// task (a machine reboot).
			code, finished = "255", st.StartedAt
			st.Message = "the container's task disappeared"
		}
	}
	st.State = runtime.ContainerExited
	n, _ := strconv.ParseInt(code, 10, 32)
	st.ExitCode, st.FinishedAt = int32(n), finished
	switch {
	case l[labelOOM] == "true":
		st.Reason = runtime.ReasonOOMKilled
	case st.ExitCode == 0:
		st.Reason = runtime.ReasonCompleted
	default:
		st.Reason = runtime.ReasonError
	}
	if msg := readTermination(l[labelTermLog]); msg != "" {
		st.Message = msg
	}
	return st, nil
}

func readTermination(path string) string {
	if path == "" {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	b := make([]byte, maxTermMessage)
	n, _ := f.Read(b)
	return strings.TrimSpace(string(b[:n]))
}

// adopt picks up containers started before this runtime: output copiers
// for running ones, exits that happened while nobody watched.
func (r *Runtime) adopt(ctx context.Context) error {
	cs, err := r.client.Containers(ctx, fmt.Sprintf(`labels.%q`, labelSandbox))
	if err != nil {
		return err
	}
	for _, c := range cs {
		labels, err := c.Labels(ctx)
		if err != nil || labels[labelStarted] == "" || labels[labelFinished] != "" {
			continue
		}
		task, err := c.Task(ctx, nil)
		if err != nil {
			continue
		}
		ts, err := task.Status(ctx)
		if err != nil {
			continue
		}
		if ts.Status == containerd.Stopped {
			if _, err := r.finish(ctx, c.ID(), ts.ExitStatus, ts.ExitTime); err != nil {
				r.log.Warn("record exit of adopted container", "container", c.ID(), "err", err)
			}
			continue
		}
		if _, err := r.attachLogs(c.ID(), labels, true); err != nil {
			r.log.Warn("reattach container output", "container", c.ID(), "err", err)
		}
	}
	return nil
}
