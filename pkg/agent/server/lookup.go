package server

import (
	"context"
	"fmt"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

var podsResource = schema.GroupResource{Resource: "pods"}

// podSandboxes returns the sandboxes of one pod, newest first (a pod
// whose sandbox was recreated has several until the old one is removed).
func (s *Server) podSandboxes(ctx context.Context, namespace, pod string) ([]runtime.Sandbox, error) {
	all, err := s.cfg.Runtime.ListPodSandboxes(ctx)
	if err != nil {
		return nil, fmt.Errorf("list sandboxes: %w", err)
	}
	var out []runtime.Sandbox
	for _, sb := range all {
		if sb.Namespace == namespace && sb.Name == pod {
			out = append(out, sb)
		}
	}
	if len(out) == 0 {
		return nil, apierrors.NewNotFound(podsResource, pod)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if (out[i].State == runtime.SandboxReady) != (out[j].State == runtime.SandboxReady) {
			return out[i].State == runtime.SandboxReady
		}
		return out[i].CreatedAt.After(out[j].CreatedAt)
	})
	return out, nil
}

// findContainer returns the current instance of a pod's container, or
// with previous the one before it (the last one that exited).
func (s *Server) findContainer(ctx context.Context, namespace, pod, name string, previous bool) (runtime.ContainerStatus, error) {
	sandboxes, err := s.podSandboxes(ctx, namespace, pod)
	if err != nil {
		return runtime.ContainerStatus{}, err
	}
	var instances []runtime.ContainerStatus
	for _, sb := range sandboxes {
		cs, err := s.cfg.Runtime.ListContainers(ctx, sb.ID)
		if err != nil {
			return runtime.ContainerStatus{}, fmt.Errorf("list containers of %s/%s: %w", namespace, pod, err)
		}
		var mine []runtime.ContainerStatus
		for _, c := range cs {
			if c.Name == name {
				mine = append(mine, c)
			}
		}
		sort.SliceStable(mine, func(i, j int) bool {
			if mine[i].Attempt != mine[j].Attempt {
				return mine[i].Attempt > mine[j].Attempt
			}
			return mine[i].CreatedAt.After(mine[j].CreatedAt)
		})
		instances = append(instances, mine...)
	}
	switch {
	case previous && len(instances) < 2:
		return runtime.ContainerStatus{}, apierrors.NewBadRequest(
			fmt.Sprintf("previous terminated container %q in pod %q not found", name, pod))
	case previous:
		return instances[1], nil
	case len(instances) == 0:
		return runtime.ContainerStatus{}, apierrors.NewBadRequest(
			fmt.Sprintf("container %q in pod %q is waiting to start: ContainerCreating", name, pod))
	}
	return instances[0], nil
}

// runningContainer is findContainer for exec and attach, which need the
// container to run.
func (s *Server) runningContainer(ctx context.Context, namespace, pod, name string) (runtime.ContainerStatus, error) {
	c, err := s.findContainer(ctx, namespace, pod, name, false)
	if err != nil {
		return c, err
	}
	if c.State != runtime.ContainerRunning {
		return c, apierrors.NewBadRequest(fmt.Sprintf("container %s is not running (state %s) in pod %s", name, c.State, pod))
	}
	return c, nil
}
