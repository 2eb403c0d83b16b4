package containerd

import (
	"context"
	"fmt"
	"io"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/errdefs"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// Attach connects the caller to the main process of a running container,
// as kubelet does:
//   - output: what the process writes from now on, on the caller's stdout
//     and stderr (one stream for a TTY container), while it also goes to
//     the log file;
//   - input: for a container with stdin, the caller's stdin goes to the
//     process; when it ends the session ends, unless the container has
//     stdinOnce: then the process's stdin is closed and the session lasts
//     until the container exits. Without stdin the caller's input is
//     ignored;
//   - terminal size changes for a TTY container.
//
// It returns when the session ends, the caller's output fails or the
// container exits.
func (r *Runtime) Attach(ctx context.Context, id string, o runtime.AttachOptions) error {
	ctx = r.ctx(ctx)
	c, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return fmt.Errorf("attach to %s: %w", id, notFound(err))
	}
	task, err := c.Task(ctx, nil)
	if err != nil {
		return fmt.Errorf("attach to %s: container is not running: %w", id, notFound(err))
	}
	lc := r.copier(id)
	if lc == nil {
		return fmt.Errorf("attach to %s: container is not running", id)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	out := map[string]io.Writer{"stdout": o.Stdout}
	if !lc.tty {
		out["stderr"] = o.Stderr
	}
	sub := lc.out.subscribe(out)
	defer sub.cancel()
	if lc.tty && o.Resize != nil {
		go forwardResize(ctx, task, o.Resize)
	}

	var stdinEnded chan struct{}
	if o.Stdin != nil && lc.stdin.isOpen() {
		stdinEnded = make(chan struct{})
		go func() {
			defer close(stdinEnded)
			lc.stdin.copyFrom(o.Stdin)
		}()
		if lc.stdin.once {
			// However the first session with input ends, it closes
			// the stdin.
			defer r.closeStdin(ctx, task, lc)
		}
	}
	for {
		select {
		case <-sub.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-stdinEnded:
			if !lc.stdin.once {
				return nil
			}
			r.closeStdin(ctx, task, lc)
			stdinEnded = nil
		}
	}
}

// closeStdin closes the container's stdin for good: the runtime's write
// end and the shim's, so the process reads EOF.
func (r *Runtime) closeStdin(ctx context.Context, task containerd.Task, lc *logCopier) {
	if !lc.stdin.close() {
		return
	}
	err := task.CloseIO(context.WithoutCancel(ctx), containerd.WithStdinCloser)
	if err != nil && !errdefs.IsNotFound(err) {
		r.log.Warn("close container stdin", "container", task.ID(), "err", err)
	}
}
