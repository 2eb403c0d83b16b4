package probes

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"
)

// worker is one probe of one container instance. Its fields after
// target are guarded by Manager.mu.
type worker struct {
	key    string // pod key, handed to Manager's Changed callback
	kind   Kind
	spec   *corev1.Probe // from the pod spec, read-only
	target Target
	// startedAt is when the container started; initialDelaySeconds
	// counts from it.
	startedAt time.Time

	result  Result // Success or Failure once decided; see initialResult
	last    Result // result of the newest attempt
	run     int    // consecutive attempts with result last
	message string // message of the attempt that decided a Failure
	onHold  bool   // liveness or startup failed: no more attempts
	stopped bool
	timer   clock.Timer
}

// initialResult is what a probe reports before its first decision: a
// container is not ready until its readiness probe succeeds, alive until
// its liveness probe fails, and not started until its startup probe
// succeeds.
func initialResult(k Kind) Result {
	switch k {
	case Liveness:
		return Success
	case Readiness:
		return Failure
	}
	return Unknown
}

func newWorker(key string, k Kind, spec *corev1.Probe, t Target, startedAt time.Time) *worker {
	return &worker{key: key, kind: k, spec: spec, target: t, startedAt: startedAt, result: initialResult(k)}
}

func (w *worker) period() time.Duration {
	return time.Duration(orDefault(w.spec.PeriodSeconds, 10)) * time.Second
}

// firstDelay is how long to wait before the first attempt: until
// initialDelaySeconds after the container started. A container that has
// run much longer already (adopted after an agent restart) waits a
// random part of a period, so a restarted agent does not probe every
// container at the same instant.
func (w *worker) firstDelay(now time.Time, jitter float64) time.Duration {
	initial := time.Duration(w.spec.InitialDelaySeconds) * time.Second
	since := now.Sub(w.startedAt)
	if since < initial {
		return initial - since
	}
	if since > initial+w.period() {
		return time.Duration(jitter * float64(w.period()))
	}
	return 0
}

// observe records one attempt's result and reports whether the
// worker's decided result changed. A result takes over only after
// successThreshold successes or failureThreshold failures in a row.
// Unknown attempts change nothing: the previous result stands.
func (w *worker) observe(o Outcome) bool {
	r := o.Result
	if r == Warning {
		r = Success
	}
	if r == Unknown {
		return false
	}
	if r == w.last {
		w.run++
	} else {
		w.last, w.run = r, 1
	}
	threshold := int(orDefault(w.spec.SuccessThreshold, 1))
	if r == Failure {
		threshold = int(orDefault(w.spec.FailureThreshold, 3))
	}
	if w.run < threshold || w.result == r {
		return false
	}
	w.result = r
	if r == Failure {
		w.message = o.Message
		if w.kind != Readiness {
			// The container is killed; its replacement gets a new worker.
			w.onHold = true
		}
	}
	return true
}
