package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// startContainer pulls the image when needed, then creates and starts a
// new instance of the container, replacing an exited one. It returns
// when to retry after a failure (0 on success).
func (a *Agent) startContainer(ctx context.Context, st *podState, c *containerState, spec *corev1.Container, init bool) time.Duration {
	pod := st.pod
	if now := a.now(); now.Before(c.pullRetryAt) {
		if c.waitReason != "ImagePullBackOff" {
			a.event(pod, spec.Name, corev1.EventTypeNormal, "BackOff", "Back-off pulling image %q", spec.Image)
		}
		c.waitReason = "ImagePullBackOff"
		c.waitMessage = fmt.Sprintf("Back-off pulling image %q", spec.Image)
		return c.pullRetryAt.Sub(now)
	}
	imageID, err := a.pull(ctx, pod, spec)
	if err != nil {
		c.pullBackoff = nextBackoff(c.pullBackoff, a.opts.BackoffInitial, a.opts.BackoffMax)
		c.pullRetryAt = a.now().Add(c.pullBackoff)
		c.waitReason, c.waitMessage = "ErrImagePull", err.Error()
		if errors.Is(err, runtime.ErrInvalidImageName) {
			c.waitReason = "InvalidImageName"
		}
		a.event(pod, spec.Name, corev1.EventTypeWarning, "Failed", "Failed to pull image %q: %v", spec.Image, err)
		a.event(pod, spec.Name, corev1.EventTypeWarning, "Failed", "Error: %s", c.waitReason)
		return c.pullBackoff
	}
	c.pullBackoff, c.pullRetryAt = 0, time.Time{}

	env, mounts, err := a.containerEnvAndMounts(ctx, st, spec)
	if err != nil {
		c.waitReason, c.waitMessage = "CreateContainerConfigError", err.Error()
		a.event(pod, spec.Name, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		return a.opts.BackoffInitial
	}

	attempt := c.restarts
	if c.id != "" {
		attempt++
	}
	if !a.mayCreate(st) {
		return 0 // being deleted: the next sync tears the pod down
	}
	id, err := a.rt.CreateContainer(ctx, st.sandbox.ID, runtime.ContainerConfig{
		Pod: pod, Container: spec, Attempt: int(attempt), ImageID: imageID, Init: init,
		Env: env, Mounts: mounts,
	})
	if err != nil {
		c.waitReason, c.waitMessage = "CreateContainerError", err.Error()
		a.event(pod, spec.Name, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		return a.opts.BackoffInitial
	}
	log := a.opts.Logger.With("node", a.opts.NodeName, "pod", podKey(pod), "uid", pod.UID, "container", spec.Name)
	log.Debug("container created", "id", id, "attempt", attempt)
	if c.id != "" {
		// A restart: the instance that exited becomes lastState and stays
		// in the runtime for `kubectl logs --previous`; the one before
		// it goes, as the kubelet keeps one exited instance per name.
		prev := c.last
		c.lastTerm = &prev
		c.restarts = attempt
		if c.prevID != "" {
			if err := a.rt.RemoveContainer(ctx, c.prevID); err != nil {
				log.Warn("remove old container", "id", c.prevID, "err", err)
			} else {
				log.Debug("container removed", "id", c.prevID)
			}
		}
		c.prevID = c.id
	}
	c.id, c.imageID = id, imageID
	c.last = runtime.ContainerStatus{ID: id, Name: spec.Name, State: runtime.ContainerCreated}
	c.killed, c.messageChecked = false, false
	a.event(pod, spec.Name, corev1.EventTypeNormal, "Created", "Created container: %s", spec.Name)
	log.Debug("container start", "id", id)
	if err := a.rt.StartContainer(ctx, id); err != nil {
		c.waitReason, c.waitMessage = "RunContainerError", err.Error()
		a.event(pod, spec.Name, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		c.last.State, c.last.ExitCode, c.last.Reason, c.last.FinishedAt = runtime.ContainerExited, 128, "StartError", a.now()
		return a.opts.BackoffInitial
	}
	c.waitReason, c.waitMessage = "", ""
	a.event(pod, spec.Name, corev1.EventTypeNormal, "Started", "Started container %s", spec.Name)
	a.refresh(ctx, c)
	if c.running() && !a.runPostStart(ctx, st, c, spec) {
		return 0 // exited: the caller decides on a restart
	}
	return 0
}

func nextBackoff(cur, initial, max time.Duration) time.Duration {
	if cur == 0 {
		return initial
	}
	return min(2*cur, max)
}

// pull honours imagePullPolicy: Always asks the registry at each start
// (ForcePullImage where the runtime has it), IfNotPresent reuses an image
// this agent pulled before, Never only reuses. Credentials come from the
// pod's imagePullSecrets.
func (a *Agent) pull(ctx context.Context, pod *corev1.Pod, spec *corev1.Container) (string, error) {
	a.mu.Lock()
	id, present := a.images[spec.Image]
	a.mu.Unlock()
	switch {
	case present && spec.ImagePullPolicy != corev1.PullAlways:
		a.event(pod, spec.Name, corev1.EventTypeNormal, "Pulled", "Container image %q already present on machine", spec.Image)
		return id, nil
	case spec.ImagePullPolicy == corev1.PullNever:
		return "", fmt.Errorf("container image %q is not present with pull policy of Never: %w", spec.Image, runtime.ErrImagePull)
	}
	a.event(pod, spec.Name, corev1.EventTypeNormal, "Pulling", "Pulling image %q", spec.Image)
	start := a.now()
	auth := a.pullAuth(ctx, pod, spec.Image)
	var err error
	if fp, ok := a.rt.(runtime.ForcePuller); ok && spec.ImagePullPolicy == corev1.PullAlways {
		id, err = fp.ForcePullImage(ctx, spec.Image, auth)
	} else {
		id, err = a.rt.PullImage(ctx, spec.Image, auth)
	}
	if err != nil {
		return "", err
	}
	a.mu.Lock()
	a.images[spec.Image] = id
	a.mu.Unlock()
	a.event(pod, spec.Name, corev1.EventTypeNormal, "Pulled", "Successfully pulled image %q in %s", spec.Image, a.now().Sub(start).Round(time.Millisecond))
	return id, nil
}

// event records an Event about the pod, or about one of its containers
// when container is set (involvedObject.fieldPath spec.containers{name}).
func (a *Agent) event(pod *corev1.Pod, container, eventType, reason, format string, args ...any) {
	if a.rec == nil {
		return
	}
	ref := &corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID}
	if container != "" {
		ref.FieldPath = containerFieldPath(pod, container)
	}
	a.rec.Eventf(ref, eventType, reason, format, args...)
}

func containerFieldPath(pod *corev1.Pod, name string) string {
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return "spec.initContainers{" + name + "}"
		}
	}
	return "spec.containers{" + name + "}"
}
