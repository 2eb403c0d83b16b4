package probes

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// attempt runs one probe attempt of a worker, records it, and schedules
// the next one. Liveness and readiness probes wait for the startup
// probe; a startup probe ends once it succeeded.
func (m *Manager) attempt(w *worker) {
	m.mu.Lock()
	if w.stopped || w.onHold {
		m.mu.Unlock()
		return
	}
	skip := w.kind != Startup && !m.startedLocked(w)
	m.mu.Unlock()

	start := m.opts.Clock.Now()
	if !skip {
		o := m.opts.Prober.Probe(m.ctx, w.target, w.spec)
		m.mu.Lock()
		if w.stopped {
			m.mu.Unlock()
			return
		}
		changed := w.observe(o)
		m.mu.Unlock()
		m.report(w, o)
		if changed {
			m.opts.Changed(w.key)
		}
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if w.stopped || w.onHold || (w.kind == Startup && w.result == Success) {
		return
	}
	next := w.period() - m.opts.Clock.Since(start)
	if next <= 0 {
		// An attempt that took a whole period: wait a period anyway
		// rather than probing back to back.
		next = w.period()
	}
	m.scheduleLocked(w, next)
}

// startedLocked: the worker's container has no startup probe, or the
// startup probe of the same instance succeeded. Callers hold mu.
func (m *Manager) startedLocked(w *worker) bool {
	if w.target.Container.StartupProbe == nil {
		return true
	}
	s := m.pods[w.key][workerKey{w.target.Container.Name, Startup}]
	return s != nil && s.target.ContainerID == w.target.ContainerID && s.result == Success
}

// report records the Events of an attempt: every failed attempt is an
// Unhealthy Event, as in Kubernetes, so `kubectl describe` shows why a
// container is not ready before the failure threshold is reached.
func (m *Manager) report(w *worker, o Outcome) {
	if m.opts.Event == nil {
		return
	}
	pod, name := w.target.Pod, w.target.Container.Name
	switch o.Result {
	case Failure:
		m.opts.Event(pod, name, corev1.EventTypeWarning, "Unhealthy", fmt.Sprintf("%s probe failed: %s", w.kind, o.Message))
	case Unknown:
		m.opts.Event(pod, name, corev1.EventTypeWarning, "Unhealthy", fmt.Sprintf("%s probe errored: %s", w.kind, o.Message))
	case Warning:
		m.opts.Event(pod, name, corev1.EventTypeWarning, "ProbeWarning", fmt.Sprintf("%s probe warning: %s", w.kind, o.Message))
	}
}
