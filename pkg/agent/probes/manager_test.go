package probes

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

func TestThresholds(t *testing.T) {
	spec := &corev1.Probe{SuccessThreshold: 2, FailureThreshold: 3}
	w := newWorker("p", Readiness, spec, Target{}, time.Time{})
	ok, bad, unk := Outcome{Result: Success}, Outcome{Result: Failure, Message: "down"}, Outcome{Result: Unknown}
	steps := []struct {
		o       Outcome
		changed bool
		result  Result
	}{
		{ok, false, Failure},  // 1 success of 2
		{unk, false, Failure}, // errors change nothing
		{ok, true, Success},   // 2 in a row: ready
		{bad, false, Success},
		{bad, false, Success},
		{ok, false, Success}, // the failure run is broken
		{bad, false, Success},
		{bad, false, Success},
		{bad, true, Failure}, // 3 in a row
		{Outcome{Result: Warning}, false, Failure},
		{ok, true, Success}, // a warning counts as a success
	}
	for i, s := range steps {
		if changed := w.observe(s.o); changed != s.changed || w.result != s.result {
			t.Fatalf("step %d: changed=%v result=%v, want %v %v", i, changed, w.result, s.changed, s.result)
		}
	}
	if w.onHold {
		t.Error("a readiness failure put the worker on hold")
	}
	live := newWorker("p", Liveness, &corev1.Probe{FailureThreshold: 1}, Target{}, time.Time{})
	if !live.observe(bad) || !live.onHold || live.message != "down" {
		t.Errorf("liveness failure: onHold=%v message=%q", live.onHold, live.message)
	}
}

func TestFirstDelay(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := newWorker("p", Readiness, &corev1.Probe{InitialDelaySeconds: 5, PeriodSeconds: 10}, Target{}, start)
	for _, tc := range []struct {
		since time.Duration
		want  time.Duration
	}{
		{0, 5 * time.Second},
		{3 * time.Second, 2 * time.Second},
		{7 * time.Second, 0},
		{time.Hour, 5 * time.Second}, // long-running (adopted): jitter of half a period
	} {
		if got := w.firstDelay(start.Add(tc.since), 0.5); got != tc.want {
			t.Errorf("since %s: first delay %s, want %s", tc.since, got, tc.want)
		}
	}
}

// script is an Execer whose answers a test changes.
type script struct {
	mu    sync.Mutex
	codes map[string]int32 // by command
	calls atomic.Int32
}

func (s *script) set(cmd string, code int32) { s.mu.Lock(); s.codes[cmd] = code; s.mu.Unlock() }

func (s *script) ExecSync(_ context.Context, _ string, cmd []string, _ time.Duration) (runtime.ExecResult, error) {
	s.calls.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	return runtime.ExecResult{ExitCode: s.codes[cmd[0]], Stdout: []byte(cmd[0] + " said so")}, nil
}

type managerHarness struct {
	t       *testing.T
	m       *Manager
	clock   *clocktesting.FakeClock
	exec    *script
	changed chan string
	pod     *corev1.Pod
}

func newManagerHarness(t *testing.T, c corev1.Container) *managerHarness {
	h := &managerHarness{
		t:       t,
		clock:   clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		exec:    &script{codes: map[string]int32{}},
		changed: make(chan string, 100),
		pod: &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", UID: "u"},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{c}},
		},
	}
	h.m = NewManager(ManagerOptions{
		Prober: NewProber(WithExecer(h.exec)), Clock: h.clock,
		Changed: func(key string) { h.changed <- key },
		Jitter:  func() float64 { return 0 },
	})
	t.Cleanup(h.m.Close)
	return h
}

func execProbe(cmd string, initial, period, failures int32) *corev1.Probe {
	return &corev1.Probe{InitialDelaySeconds: initial, PeriodSeconds: period, FailureThreshold: failures,
		ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{cmd}}}}
}

func (h *managerHarness) status() Status {
	return h.m.Status("default/p", &h.pod.Spec.Containers[0], "c1")
}

// waitChange waits for a Changed call (probe attempts run in
// goroutines of their own).
func (h *managerHarness) waitChange() {
	h.t.Helper()
	select {
	case <-h.changed:
	case <-time.After(5 * time.Second):
		h.t.Fatal("no change reported")
	}
}

// settle steps the clock and waits until the attempts it started ran.
func (h *managerHarness) step(d time.Duration, attempts int32) {
	h.t.Helper()
	want := h.exec.calls.Load() + attempts
	h.clock.Step(d)
	deadline := time.Now().Add(5 * time.Second)
	for h.exec.calls.Load() < want {
		if time.Now().After(deadline) {
			h.t.Fatalf("%d attempts, want %d", h.exec.calls.Load(), want)
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond) // let the attempt record its result
}

func TestManagerReadiness(t *testing.T) {
	h := newManagerHarness(t, corev1.Container{Name: "app", ReadinessProbe: execProbe("ready", 5, 10, 1)})
	h.exec.set("ready", 1)
	h.m.SyncPod("default/p", h.pod, "10.0.0.1", []Running{{Name: "app", ID: "c1", StartedAt: h.clock.Now()}})
	if s := h.status(); s.Ready || !s.Started {
		t.Fatalf("before any attempt: %+v, want started and not ready", s)
	}
	h.step(4*time.Second, 0)
	if n := h.exec.calls.Load(); n != 0 {
		t.Fatalf("%d attempts before initialDelaySeconds", n)
	}
	h.step(time.Second, 1) // failing: stays not ready, no change
	h.exec.set("ready", 0)
	h.step(10*time.Second, 1)
	h.waitChange()
	if s := h.status(); !s.Ready {
		t.Fatalf("after a success: %+v, want ready", s)
	}
	h.exec.set("ready", 1)
	h.step(10*time.Second, 1)
	h.waitChange()
	if s := h.status(); s.Ready || s.Kill != nil {
		t.Fatalf("after a failure: %+v, want not ready and alive", s)
	}
	// A new instance starts over, not ready.
	h.exec.set("ready", 0)
	h.m.SyncPod("default/p", h.pod, "10.0.0.1", []Running{{Name: "app", ID: "c2", StartedAt: h.clock.Now()}})
	if s := h.m.Status("default/p", &h.pod.Spec.Containers[0], "c2"); s.Ready {
		t.Errorf("new instance: %+v, want not ready", s)
	}
	h.m.RemovePod("default/p")
	if h.clock.HasWaiters() {
		t.Error("timers left after RemovePod")
	}
}

func TestManagerStartupGatesLiveness(t *testing.T) {
	h := newManagerHarness(t, corev1.Container{Name: "app",
		StartupProbe:  execProbe("started", 0, 1, 5),
		LivenessProbe: execProbe("alive", 0, 10, 2),
	})
	h.exec.set("started", 1)
	h.exec.set("alive", 1)
	h.m.SyncPod("default/p", h.pod, "10.0.0.1", []Running{{Name: "app", ID: "c1", StartedAt: h.clock.Now()}})
	h.step(0, 1) // the startup attempt at once; liveness waits
	if s := h.status(); s.Started || s.Ready || s.Kill != nil {
		t.Fatalf("startup failing once: %+v", s)
	}
	h.exec.set("started", 0)
	h.step(time.Second, 1)
	h.waitChange()
	if s := h.status(); !s.Started || !s.Ready {
		t.Fatalf("after startup success: %+v, want started and ready", s)
	}
	calls := h.exec.calls.Load()
	h.step(9*time.Second, 1) // liveness fails once (threshold 2)
	if s := h.status(); s.Kill != nil {
		t.Fatalf("one liveness failure killed: %+v", s)
	}
	h.step(10*time.Second, 1)
	h.waitChange()
	s := h.status()
	if s.Kill == nil || s.Kill.Kind != Liveness || s.Kill.Message != "alive said so" || s.Kill.Reason("app") != "Container app failed liveness probe, will be restarted" {
		t.Fatalf("after liveness failures: %+v", s)
	}
	if got := h.exec.calls.Load() - calls; got != 2 {
		t.Errorf("%d attempts after startup, want 2 liveness attempts (startup probe stopped)", got)
	}
	h.clock.Step(time.Minute)
	time.Sleep(20 * time.Millisecond)
	if got := h.exec.calls.Load() - calls; got != 2 {
		t.Errorf("a failed liveness probe kept probing (%d attempts)", got)
	}
}

func TestManagerNoProbesCostsNothing(t *testing.T) {
	h := newManagerHarness(t, corev1.Container{Name: "app"})
	h.m.SyncPod("default/p", h.pod, "10.0.0.1", []Running{{Name: "app", ID: "c1"}})
	if len(h.m.pods) != 0 || h.clock.HasWaiters() {
		t.Errorf("a pod without probes has %d entries, waiters %v", len(h.m.pods), h.clock.HasWaiters())
	}
	if s := h.status(); !s.Ready || !s.Started {
		t.Errorf("status without probes: %+v", s)
	}
}
