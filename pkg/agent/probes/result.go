package probes

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// Result is the outcome of one probe attempt.
type Result int

const (
	// Unknown: the probe could not be run (a bad port name, an exec
	// error); the previous result stands.
	Unknown Result = iota
	// Success: the handler succeeded.
	Success
	// Warning: counted as a success, with a message worth an Event
	// (an HTTP redirect to another host that was not followed).
	Warning
	// Failure: the handler failed.
	Failure
)

func (r Result) String() string {
	switch r {
	case Success:
		return "success"
	case Warning:
		return "warning"
	case Failure:
		return "failure"
	}
	return "unknown"
}

// Outcome is a Result with the text Kubernetes shows for it, e.g.
// "HTTP probe failed with statuscode: 500".
type Outcome struct {
	Result  Result
	Message string
}

func failure(format string, args ...any) Outcome {
	return Outcome{Result: Failure, Message: fmt.Sprintf(format, args...)}
}

func unknown(format string, args ...any) Outcome {
	return Outcome{Result: Unknown, Message: fmt.Sprintf(format, args...)}
}

// Kind is which probe of a container: it names the probe in Events
// ("Liveness probe failed: …").
type Kind string

const (
	Liveness  Kind = "Liveness"
	Readiness Kind = "Readiness"
	Startup   Kind = "Startup"
)

// probeOf returns the container's probe of one kind, or nil.
func probeOf(c *corev1.Container, k Kind) *corev1.Probe {
	switch k {
	case Liveness:
		return c.LivenessProbe
	case Readiness:
		return c.ReadinessProbe
	case Startup:
		return c.StartupProbe
	}
	return nil
}

// HasProbes reports whether the container has any probe.
func HasProbes(c *corev1.Container) bool {
	return c.LivenessProbe != nil || c.ReadinessProbe != nil || c.StartupProbe != nil
}
