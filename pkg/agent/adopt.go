package agent

import (
	corev1 "k8s.io/api/core/v1"

	"context"
	"fmt"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// adopt lists what the runtime already runs (an agent restart), so pods
// pick their sandboxes up again instead of starting twice.
func (a *Agent) adopt(ctx context.Context) error {
	sbs, err := a.rt.ListPodSandboxes(ctx)
	if err != nil {
		return fmt.Errorf("list sandboxes: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, sb := range sbs {
		if a.orphans == nil {
			a.orphans = map[string]runtime.Sandbox{}
		}
		a.orphans[sb.PodUID] = sb
	}
	return nil
}

// adoptSandbox takes over a ready sandbox left for this pod, with the
// newest instance of each container.
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
		a.discard(ctx, sb)
		return false
	}
	cs, err := a.rt.ListContainers(ctx, sb.ID)
	if err != nil {
		a.discard(ctx, sb)
		return false
	}
	pod := st.pod
	for _, c := range cs {
		target := findContainer(st, pod.Spec.InitContainers, st.init, c.Name)
		if target == nil {
			target = findContainer(st, pod.Spec.Containers, st.app, c.Name)
		}
		if target == nil || (target.id != "" && int(target.restarts) > c.Attempt) {
			continue
		}
		target.id, target.imageID, target.restarts, target.last = c.ID, c.ImageID, int32(c.Attempt), c
	}
	st.sandbox = sb
	a.mu.Lock()
	a.sandboxes[sb.ID] = podKey(pod)
	a.mu.Unlock()
	return true
}

func findContainer(_ *podState, specs []corev1.Container, states []containerState, name string) *containerState {
	for i := range specs {
		if specs[i].Name == name {
			return &states[i]
		}
	}
	return nil
}

// removeOrphan removes a sandbox whose pod is not bound here any more.
func (a *Agent) removeOrphan(ctx context.Context, uid string) error {
	a.mu.Lock()
	sb, ok := a.orphans[uid]
	for _, st := range a.pods {
		if string(st.uid) == uid {
			ok = false // its pod will adopt it
		}
	}
	if ok {
		delete(a.orphans, uid)
	}
	a.mu.Unlock()
	if !ok {
		return nil
	}
	return a.discard(ctx, sb)
}

func (a *Agent) discard(ctx context.Context, sb runtime.Sandbox) error {
	if err := a.rt.StopPodSandbox(ctx, sb.ID); err != nil {
		return fmt.Errorf("stop orphaned sandbox %s: %w", sb.ID, err)
	}
	if err := a.rt.RemovePodSandbox(ctx, sb.ID); err != nil {
		return fmt.Errorf("remove orphaned sandbox %s: %w", sb.ID, err)
	}
	if err := a.tearDownVolumes(ctx, sb.PodUID); err != nil {
		return fmt.Errorf("tear down volumes of orphaned sandbox %s: %w", sb.ID, err)
	}
	return nil
}
