package containerd

import (
	"context"
	"fmt"
	"time"

	apievents "github.com/containerd/containerd/api/events"
	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"
)

// watchEvents follows task exits and OOM kills in the namespace until ctx
// ends, resubscribing when the stream breaks (a daemon restart).
func (r *Runtime) watchEvents(ctx context.Context, ready chan<- struct{}) {
	defer r.events.Done()
	ns := r.cfg.Namespace
	first := true
	for {
		subCtx, cancel := context.WithCancel(ctx)
		ch, errs := r.client.Subscribe(subCtx,
			fmt.Sprintf(`namespace==%q,topic=="/tasks/exit"`, ns),
			fmt.Sprintf(`namespace==%q,topic=="/tasks/oom"`, ns))
		if first {
			close(ready)
			first = false
		}
	loop:
		for {
			select {
			case <-ctx.Done():
				cancel()
				return
			case err := <-errs:
				if err != nil && ctx.Err() == nil {
					r.log.Warn("task event stream broke; resubscribing", "err", err)
				}
				break loop
			case env := <-ch:
				if env != nil {
					r.handleEvent(ctx, env.Event)
				}
			}
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (r *Runtime) handleEvent(ctx context.Context, a typeurl.Any) {
	ev, err := typeurl.UnmarshalAny(a)
	if err != nil {
		r.log.Warn("undecodable task event", "err", err)
		return
	}
	switch e := ev.(type) {
	case *apievents.TaskOOM:
		if err := r.setLabels(ctx, e.ContainerID, map[string]string{labelOOM: "true"}); err != nil && !errdefs.IsNotFound(err) {
			r.log.Warn("record OOM kill", "container", e.ContainerID, "err", err)
		}
	case *apievents.TaskExit:
		if e.ID != e.ContainerID {
			return // an exec'd process
		}
		// Work outside the event loop: finishing waits for the log copier.
		go func() {
			sandboxID, err := r.finish(ctx, e.ContainerID, e.ExitStatus, e.ExitedAt.AsTime())
			if err != nil {
				if !errdefs.IsNotFound(err) {
					r.log.Warn("record container exit", "container", e.ContainerID, "err", err)
				}
				return
			}
			r.mu.Lock()
			fns := append([]func(sandboxID, containerID string){}, r.notify...)
			r.mu.Unlock()
			for _, fn := range fns {
				fn(sandboxID, e.ContainerID)
			}
		}()
	}
}

// setLabels merges labels into a container's.
func (r *Runtime) setLabels(ctx context.Context, id string, labels map[string]string) error {
	c, err := r.client.LoadContainer(r.ctx(ctx), id)
	if err != nil {
		return err
	}
	_, err = c.SetLabels(r.ctx(ctx), labels)
	return err
}

// chooseSnapshotter returns want, else overlayfs when containerd could
// load it, else native.
func chooseSnapshotter(ctx context.Context, c *containerd.Client, want string) (string, error) {
	if want != "" {
		return want, nil
	}
	resp, err := c.IntrospectionService().Plugins(ctx, `type=="io.containerd.snapshotter.v1",id=="overlayfs"`)
	if err != nil {
		return "", fmt.Errorf("list snapshotters: %w", err)
	}
	for _, p := range resp.Plugins {
		if p.InitErr == nil {
			return "overlayfs", nil
		}
	}
	return "native", nil
}
