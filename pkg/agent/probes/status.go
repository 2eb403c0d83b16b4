package probes

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// Status is what the probes say about one container instance.
type Status struct {
	// Started: no startup probe, or it succeeded.
	Started bool
	// Ready: started, and no readiness probe or it succeeded.
	Ready bool
	// Kill is set once the liveness or startup probe failed: the
	// container must be killed (and restarted as restartPolicy says).
	Kill *Kill
}

// Kill says why a container must be killed.
type Kill struct {
	Kind Kind
	// Message is the failed probe's output.
	Message string
	// GracePeriodSeconds is the probe's terminationGracePeriodSeconds,
	// nil to use the pod's.
	GracePeriodSeconds *int64
}

// Reason is the text of the Killing Event.
func (k *Kill) Reason(container string) string {
	kind := "liveness"
	if k.Kind == Startup {
		kind = "startup"
	}
	return fmt.Sprintf("Container %s failed %s probe, will be restarted", container, kind)
}

// Status reports the probes' view of a running container instance. A
// container without probes is started and ready.
func (m *Manager) Status(key string, c *corev1.Container, containerID string) Status {
	if !HasProbes(c) {
		return Status{Started: true, Ready: true}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ws := m.pods[key]
	result := func(k Kind) (*worker, Result) {
		if w := ws[workerKey{c.Name, k}]; w != nil && w.target.ContainerID == containerID {
			return w, w.result
		}
		return nil, initialResult(k)
	}
	var s Status
	startup, sr := result(Startup)
	s.Started = c.StartupProbe == nil || sr == Success
	_, rr := result(Readiness)
	s.Ready = s.Started && (c.ReadinessProbe == nil || rr == Success)
	if c.StartupProbe != nil && sr == Failure {
		s.Kill = &Kill{Kind: Startup, Message: startup.message, GracePeriodSeconds: c.StartupProbe.TerminationGracePeriodSeconds}
	} else if live, lr := result(Liveness); c.LivenessProbe != nil && lr == Failure {
		s.Kill = &Kill{Kind: Liveness, Message: live.message, GracePeriodSeconds: c.LivenessProbe.TerminationGracePeriodSeconds}
	}
	return s
}
