package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/pkg/agent/probes"
	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// minStopGrace is what a container still gets after a preStop hook used
// up its grace period, so SIGTERM always precedes SIGKILL.
const minStopGrace = 2 * time.Second

func newProber(rt runtime.Runtime, opts Options) *probes.Prober {
	var po []probes.Option
	if e, ok := rt.(runtime.Execer); ok {
		po = append(po, probes.WithExecer(e))
	}
	if opts.ProbeDialer != nil {
		po = append(po, probes.WithDialer(opts.ProbeDialer))
	}
	if opts.SimulatedProbeNetwork {
		po = append(po, probes.WithSimulatedNetwork())
	}
	return probes.NewProber(po...)
}

// podIP is the address probes and hooks dial: the sandbox's, or the
// node's for host-network pods.
func (a *Agent) podIP(st *podState, pod *corev1.Pod) string {
	if pod.Spec.HostNetwork {
		return a.hostIP
	}
	return st.sandbox.IP
}

func (a *Agent) hookTarget(st *podState, pod *corev1.Pod, spec *corev1.Container, id string) probes.Target {
	return probes.Target{Pod: pod, Container: spec, ContainerID: id, PodIP: a.podIP(st, pod)}
}

// podGrace is the pod's termination grace period (30 s by default).
func podGrace(pod *corev1.Pod) time.Duration {
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		return time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second
	}
	return time.Duration(corev1.DefaultTerminationGracePeriodSeconds) * time.Second
}

// killContainer stops a running container: a Killing Event with
// message, the preStop hook bounded by grace, then SIGTERM with what is
// left of grace (at least 2 s after a hook) and SIGKILL.
func (a *Agent) killContainer(ctx context.Context, st *podState, pod *corev1.Pod, c *containerState, spec *corev1.Container, grace time.Duration, message string) error {
	a.event(pod, spec.Name, corev1.EventTypeNormal, "Killing", "%s", message)
	if spec.Lifecycle != nil && spec.Lifecycle.PreStop != nil && grace > 0 {
		start := time.Now()
		hctx, cancel := context.WithTimeout(ctx, grace)
		err := a.prober.RunHook(hctx, a.hookTarget(st, pod, spec, c.id), spec.Lifecycle.PreStop)
		cancel()
		if err != nil {
			a.event(pod, spec.Name, corev1.EventTypeWarning, "FailedPreStopHook", "%s", err.Error())
		}
		grace = max(grace-time.Since(start), minStopGrace)
	}
	a.opts.Logger.Debug("container stop", "node", a.opts.NodeName, "pod", podKey(pod), "uid", pod.UID, "container", spec.Name, "id", c.id, "grace", grace)
	if err := a.rt.StopContainer(ctx, c.id, grace); err != nil {
		return fmt.Errorf("stop container %s: %w", c.id, err)
	}
	a.refresh(ctx, c)
	return nil
}

// runPostStart runs the container's postStart hook right after it
// started. A failing hook kills the container, which then restarts as
// its restart policy says; it reports whether the container survived.
func (a *Agent) runPostStart(ctx context.Context, st *podState, c *containerState, spec *corev1.Container) bool {
	if spec.Lifecycle == nil || spec.Lifecycle.PostStart == nil {
		return true
	}
	pod := st.pod
	err := a.prober.RunHook(ctx, a.hookTarget(st, pod, spec, c.id), spec.Lifecycle.PostStart)
	if err == nil {
		return true
	}
	a.event(pod, spec.Name, corev1.EventTypeWarning, "FailedPostStartHook", "%s", err.Error())
	if kerr := a.killContainer(ctx, st, pod, c, spec, podGrace(pod), "FailedPostStartHook"); kerr != nil {
		a.opts.Logger.Warn("kill container after failed postStart hook", "node", a.opts.NodeName, "container", c.id, "err", kerr)
	}
	c.killed = true
	c.waitReason, c.waitMessage = "PostStartHookError", err.Error()
	return false
}

// probeKill kills a container whose liveness or startup probe failed,
// with the probe's terminationGracePeriodSeconds or the pod's.
func (a *Agent) probeKill(ctx context.Context, st *podState, pod *corev1.Pod, c *containerState, spec *corev1.Container, k *probes.Kill) {
	grace := podGrace(pod)
	if k.GracePeriodSeconds != nil {
		grace = time.Duration(*k.GracePeriodSeconds) * time.Second
	}
	if err := a.killContainer(ctx, st, pod, c, spec, grace, k.Reason(spec.Name)); err != nil {
		a.opts.Logger.Warn("kill unhealthy container", "node", a.opts.NodeName, "container", c.id, "err", err)
		return
	}
	c.killed = true
}

// syncProbes hands the running app containers to the probe manager,
// which starts workers for new instances and ends those of old ones.
func (a *Agent) syncProbes(st *podState, pod *corev1.Pod) {
	var running []probes.Running
	for i := range st.init {
		if c := &st.init[i]; c.running() && i < len(pod.Spec.InitContainers) && isSidecar(&pod.Spec.InitContainers[i]) {
			running = append(running, probes.Running{Name: pod.Spec.InitContainers[i].Name, ID: c.id, StartedAt: c.last.StartedAt})
		}
	}
	for i := range st.app {
		if c := &st.app[i]; c.running() && i < len(pod.Spec.Containers) {
			running = append(running, probes.Running{Name: pod.Spec.Containers[i].Name, ID: c.id, StartedAt: c.last.StartedAt})
		}
	}
	a.probeMgr.SyncPod(podKey(pod), pod, a.podIP(st, pod), running)
}

// shouldRestartContainer: an exited app container restarts as the
// restart policy says; one the agent killed (failed probe or postStart
// hook) restarts unless the policy is Never, whatever its exit code.
func shouldRestartContainer(policy corev1.RestartPolicy, c *containerState) bool {
	if c.killed {
		return policy != corev1.RestartPolicyNever
	}
	return shouldRestart(policy, c.last.ExitCode)
}

// stopAll stops (preStop hook first) and removes the given containers,
// all at once, with their previous instances.
func (a *Agent) stopAll(ctx context.Context, st *podState, pod *corev1.Pod, cs []containerState, specs []corev1.Container, grace time.Duration) error {
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i := range cs {
		c := &cs[i]
		if c.prevID != "" {
			if err := a.rt.RemoveContainer(ctx, c.prevID); err != nil {
				errs[i] = fmt.Errorf("remove container %s: %w", c.prevID, err)
				continue
			}
			c.prevID = ""
		}
		if c.id == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.refresh(ctx, c)
			if c.running() && i < len(specs) {
				if err := a.killContainer(ctx, st, pod, c, &specs[i], grace, "Stopping container "+specs[i].Name); err != nil {
					errs[i] = err
					return
				}
			} else if err := a.rt.StopContainer(ctx, c.id, grace); err != nil {
				errs[i] = fmt.Errorf("stop container %s: %w", c.id, err)
				return
			}
			if err := a.rt.RemoveContainer(ctx, c.id); err != nil {
				errs[i] = fmt.Errorf("remove container %s: %w", c.id, err)
				return
			}
			a.opts.Logger.Debug("container removed", "node", a.opts.NodeName, "pod", podKey(pod), "uid", pod.UID, "id", c.id)
			c.id = ""
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
