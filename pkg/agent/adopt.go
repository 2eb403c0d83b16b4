package agent

import (
	"context"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// adopt lists what the runtime already runs (an agent restart), so pods
// pick their sandboxes up again instead of starting twice.
func (a *Agent) adopt(ctx context.Context) error {
	sbs, err := a.rt.ListPodSandboxes(ctx)
	if err != nil {
		return fmt.Errorf("list sandboxes: %w", err)
	}
	// One sandbox per pod is adopted: a ready one, the newest. Others
	// of the same pod (a crash between creating one and removing
	// another) go now.
	best := map[string]runtime.Sandbox{}
	var extra []runtime.Sandbox
	for _, sb := range sbs {
		cur, ok := best[sb.PodUID]
		if ok && !betterSandbox(sb, cur) {
			extra = append(extra, sb)
			continue
		}
		if ok {
			extra = append(extra, cur)
		}
		best[sb.PodUID] = sb
	}
	for _, sb := range extra {
		a.discardLogged(ctx, sb)
	}
	a.mu.Lock()
	a.orphans = best
	a.mu.Unlock()
	return nil
}

func betterSandbox(x, y runtime.Sandbox) bool {
	if (x.State == runtime.SandboxReady) != (y.State == runtime.SandboxReady) {
		return x.State == runtime.SandboxReady
	}
	return x.CreatedAt.After(y.CreatedAt)
}

// adoptSandbox takes over a ready sandbox left for this pod: the newest
// instance of each container becomes the current one, the one before it
// (when exited) its previous one, and older instances are removed.
func (a *Agent) adoptSandbox(ctx context.Context, st *podState) bool {
	a.mu.Lock()
	sb, ok := a.orphans[string(st.uid)]
	if ok {
		delete(a.orphans, string(st.uid))
	}
	a.mu.Unlock()
	if !ok {
		return false
	}
	if sb.State != runtime.SandboxReady {
		a.discardLogged(ctx, sb)
		return false
	}
	cs, err := a.rt.ListContainers(ctx, sb.ID)
	if err != nil {
		a.discardLogged(ctx, sb)
		return false
	}
	// Newest first, so the first instance of a name is its current one.
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].Attempt > cs[j].Attempt })
	pod := st.pod
	for _, c := range cs {
		target := findContainer(pod.Spec.InitContainers, st.init, c.Name)
		if target == nil {
			target = findContainer(pod.Spec.Containers, st.app, c.Name)
		}
		switch {
		case target == nil:
		case target.id == "":
			target.id, target.imageID, target.restarts, target.last = c.ID, c.ImageID, int32(c.Attempt), c
			continue
		case target.prevID == "" && c.State == runtime.ContainerExited:
			prev := c
			target.prevID, target.lastTerm = c.ID, &prev
			continue
		}
		// Unknown to the spec, or older than the previous instance.
		if err := a.rt.RemoveContainer(ctx, c.ID); err != nil {
			a.opts.Logger.Warn("remove old container", "node", a.opts.NodeName, "container", c.ID, "err", err)
		}
	}
	st.sandbox = sb
	a.mu.Lock()
	a.sandboxes[sb.ID] = podKey(pod)
	a.mu.Unlock()
	a.opts.Logger.Debug("sandbox adopted", "node", a.opts.NodeName, "pod", podKey(pod), "uid", st.uid, "sandbox", sb.ID)
	return true
}

func findContainer(specs []corev1.Container, states []containerState, name string) *containerState {
	for i := range specs {
		if specs[i].Name == name {
			return &states[i]
		}
	}
	return nil
}

func (a *Agent) discardLogged(ctx context.Context, sb runtime.Sandbox) {
	if err := a.discard(ctx, sb); err != nil {
		a.opts.Logger.Warn("remove sandbox", "node", a.opts.NodeName, "sandbox", sb.ID, "err", err)
	}
}

// discard removes a sandbox no pod runs in any more, and its volumes.
func (a *Agent) discard(ctx context.Context, sb runtime.Sandbox) error {
	if err := a.removeSandbox(ctx, sb); err != nil {
		return fmt.Errorf("orphaned sandbox: %w", err)
	}
	if err := a.tearDownVolumes(ctx, sb.PodUID); err != nil {
		return fmt.Errorf("tear down volumes of orphaned sandbox %s: %w", sb.ID, err)
	}
	return nil
}
