package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// sync converges one pod toward its spec and reports its status. The
// work queue never runs two syncs of one key at once, so each pod has
// one logical worker without a goroutine of its own. It returns when to
// look again (0: only on the next event).
func (a *Agent) sync(ctx context.Context, key string) (time.Duration, error) {
	switch key {
	case orphanSandboxesKey:
		return 0, a.removeOrphanSandboxes(ctx)
	case orphanVolumesKey:
		a.cleanupOrphanVolumes(ctx)
		return 0, nil
	}
	a.mu.Lock()
	st := a.pods[key]
	var pod, repl *corev1.Pod
	var gone, deleting bool
	if st != nil {
		pod, repl, gone, deleting = st.pod, st.replacement, st.gone, st.deleting
	}
	a.mu.Unlock()
	if st == nil {
		return 0, nil
	}
	log := a.opts.Logger.With("node", a.opts.NodeName, "pod", key, "uid", st.uid)
	log.Debug("sync pod start", "resourceVersion", pod.ResourceVersion, "deleting", deleting || pod.DeletionTimestamp != nil, "gone", gone)
	after, err := a.syncPod(ctx, key, st, pod, repl, gone, deleting)
	log.Debug("sync pod end", "requeue", after, "err", err)
	return after, err
}

// syncPod is sync with the fields handlers set read under the lock.
func (a *Agent) syncPod(ctx context.Context, key string, st *podState, pod, repl *corev1.Pod, gone, deleting bool) (time.Duration, error) {
	if gone || deleting || repl != nil || pod.DeletionTimestamp != nil {
		return 0, a.finishDeletion(ctx, key, st, pod, gone || repl != nil)
	}
	if st.terminal == "" && st.sandbox.ID == "" && (pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed) {
		// Finished before this agent ran it (an agent restart): a
		// finished pod never runs again, and its reported status stands.
		st.terminal, st.finishedBefore = pod.Status.Phase, true
	}
	if st.terminal != "" {
		if st.finishedBefore {
			return 0, nil
		}
		return 0, a.writeStatus(ctx, st, pod)
	}
	if retry := a.setUpVolumes(ctx, st, pod); retry > 0 {
		return retry, a.writeStatus(ctx, st, pod)
	}
	if err := a.ensureSandbox(ctx, st, pod); errors.Is(err, errPodDeleting) {
		return 0, nil // the deletion queued the pod again
	} else if err != nil {
		a.event(pod, "", corev1.EventTypeWarning, "FailedCreatePodSandBox", "Failed to create pod sandbox: %v", err)
		return a.opts.BackoffInitial, errors.Join(err, a.writeStatus(ctx, st, pod))
	}
	requeue := a.syncContainers(ctx, st, pod)
	a.fillTerminationMessages(ctx, st, pod)
	if phase := podPhase(st, pod); phase == corev1.PodSucceeded || phase == corev1.PodFailed {
		st.terminal = phase
		a.probeMgr.RemovePod(key)
		// A finished pod keeps its record but gives back its address.
		if err := a.rt.StopPodSandbox(ctx, st.sandbox.ID); err != nil {
			return time.Second, fmt.Errorf("stop sandbox of finished pod %s: %w", key, err)
		}
		st.torndown = true
	} else {
		a.syncProbes(st, pod)
	}
	return requeue, a.writeStatus(ctx, st, pod)
}

// errPodDeleting: the pod is being deleted, so nothing new is created
// for it.
var errPodDeleting = errors.New("pod is being deleted")

// mayCreate reports whether a sandbox or container may still be created
// for the pod of st: not once its deletion was seen. Whatever is created
// after a true answer is recorded in st, so the deletion's teardown,
// which runs on the same worker key afterwards, removes it.
func (a *Agent) mayCreate(st *podState) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, dead := a.deleted[st.uid]
	return !dead && !st.deleting && a.pods[podKey(st.pod)] == st
}

func (a *Agent) ensureSandbox(ctx context.Context, st *podState, pod *corev1.Pod) error {
	if st.startTime.IsZero() {
		st.startTime = a.now()
		if pod.Status.StartTime != nil {
			st.startTime = pod.Status.StartTime.Time
		}
	}
	if st.sandbox.ID != "" {
		return nil
	}
	if !a.mayCreate(st) {
		return errPodDeleting
	}
	if a.adoptSandbox(ctx, st) {
		return nil
	}
	sb, err := a.rt.RunPodSandbox(ctx, pod)
	if err != nil {
		return fmt.Errorf("run sandbox: %w", err)
	}
	st.sandbox = sb
	a.mu.Lock()
	a.sandboxes[sb.ID] = podKey(pod)
	a.mu.Unlock()
	a.opts.Logger.Debug("sandbox created", "node", a.opts.NodeName, "pod", podKey(pod), "uid", pod.UID, "sandbox", sb.ID, "ip", sb.IP)
	return nil
}

// syncContainers runs init containers one after another, then the app
// containers, restarting exited ones as the restart policy says.
func (a *Agent) syncContainers(ctx context.Context, st *podState, pod *corev1.Pod) time.Duration {
	var requeue time.Duration
	later := func(d time.Duration) {
		if d > 0 && (requeue == 0 || d < requeue) {
			requeue = d
		}
	}
	for i := range pod.Spec.InitContainers {
		c, spec := &st.init[i], &pod.Spec.InitContainers[i]
		a.refresh(ctx, c)
		if isSidecar(spec) {
			if !a.syncSidecar(ctx, st, pod, c, spec, later) && !st.initialized {
				return requeue // the next init container waits until this one started
			}
			continue
		}
		if c.succeeded() {
			continue
		}
		if c.running() {
			return requeue
		}
		if c.exited() {
			if pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
				return requeue // podPhase reports Failed
			}
			if d := a.restartDelay(c, pod, spec); d > 0 {
				later(d)
				return requeue
			}
		}
		later(a.startContainer(ctx, st, c, spec, true))
		if !c.succeeded() {
			return requeue
		}
	}
	st.initialized = true
	for i := range pod.Spec.Containers {
		c, spec := &st.app[i], &pod.Spec.Containers[i]
		a.refresh(ctx, c)
		if c.running() {
			k := a.probeMgr.Status(podKey(pod), spec, c.id).Kill
			if k == nil {
				continue
			}
			a.probeKill(ctx, st, pod, c, spec, k)
			if c.running() {
				later(time.Second) // the stop failed: try again
				continue
			}
		}
		if c.exited() {
			if !shouldRestartContainer(pod.Spec.RestartPolicy, c) {
				continue
			}
			if d := a.restartDelay(c, pod, spec); d > 0 {
				later(d)
				continue
			}
		}
		later(a.startContainer(ctx, st, c, spec, false))
		if c.exited() {
			later(time.Nanosecond) // exited at once: decide on a restart next
		}
	}
	return requeue
}

// syncSidecar keeps a sidecar (restartPolicy Always init container)
// running: it is started, restarted with back-off whenever it exits
// (whatever the pod's restart policy), and restarted when its liveness
// probe fails. It reports whether the sidecar is running and started (its
// startup probe, if any, passed), which lets the next init container go.
func (a *Agent) syncSidecar(ctx context.Context, st *podState, pod *corev1.Pod, c *containerState, spec *corev1.Container, later func(time.Duration)) bool {
	if c.running() {
		ps := a.probeMgr.Status(podKey(pod), spec, c.id)
		if ps.Kill == nil {
			return ps.Started
		}
		a.probeKill(ctx, st, pod, c, spec, ps.Kill)
		if c.running() {
			later(time.Second) // the stop failed: try again
			return ps.Started
		}
	}
	if c.exited() {
		if d := a.restartDelay(c, pod, spec); d > 0 {
			later(d)
			return false
		}
	}
	later(a.startContainer(ctx, st, c, spec, true))
	if c.exited() {
		later(time.Nanosecond) // exited at once: back off next
	}
	return c.running() && a.probeMgr.Status(podKey(pod), spec, c.id).Started
}

func shouldRestart(policy corev1.RestartPolicy, exitCode int32) bool {
	switch policy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return exitCode != 0
	}
	return true
}

// refresh reads the current instance's state from the runtime.
func (a *Agent) refresh(ctx context.Context, c *containerState) {
	if c.id == "" || c.last.State == runtime.ContainerExited {
		return
	}
	s, err := a.rt.ContainerStatus(ctx, c.id)
	if errors.Is(err, runtime.ErrNotFound) {
		// Removed behind our back: count it as a failed exit.
		c.last.State, c.last.ExitCode, c.last.Reason, c.last.FinishedAt = runtime.ContainerExited, 137, runtime.ReasonError, a.now()
		return
	}
	if err == nil {
		c.last = s
	}
}

// restartDelay applies the crash back-off: the first restart is at once,
// later ones wait 10 s, 20 s, 40 s … up to 5 min after the exit. A
// container that ran well for twice the cap starts over at once.
func (a *Agent) restartDelay(c *containerState, pod *corev1.Pod, spec *corev1.Container) time.Duration {
	now := a.now()
	finished := c.last.FinishedAt
	if c.backoff == 0 || finished.Sub(c.backoffSince) > 2*a.opts.BackoffMax {
		c.backoff, c.backoffSince = a.opts.BackoffInitial, now
		return 0
	}
	if remaining := finished.Add(c.backoff).Sub(now); remaining > 0 {
		if c.waitReason != "CrashLoopBackOff" {
			a.event(pod, spec.Name, corev1.EventTypeWarning, "BackOff", "Back-off restarting failed container %s in pod %s_%s(%s)", spec.Name, pod.Name, pod.Namespace, pod.UID)
		}
		c.waitReason = "CrashLoopBackOff"
		c.waitMessage = fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", c.backoff, spec.Name, pod.Name, pod.Namespace, pod.UID)
		return remaining
	}
	c.backoff, c.backoffSince = min(2*c.backoff, a.opts.BackoffMax), now
	return 0
}
