package agent

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/tugcluster/tug/pkg/agent/runtime"
	fakert "github.com/tugcluster/tug/pkg/agent/runtime/fake"
)

// scripted wraps the fake runtime: exec commands answer with the exit
// code a test sets ("block" waits for its deadline), stops and execs
// are logged in order, and logs can be read.
type scripted struct {
	*fakert.Runtime
	mu    sync.Mutex
	codes map[string]int32
	calls []string
	logs  string
}

func (s *scripted) ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) (runtime.ExecResult, error) {
	s.mu.Lock()
	s.calls = append(s.calls, "exec "+cmd[0])
	code := s.codes[cmd[0]]
	s.mu.Unlock()
	if cmd[0] == "block" {
		<-ctx.Done()
		return runtime.ExecResult{}, ctx.Err()
	}
	if _, err := s.Runtime.ExecSync(ctx, id, cmd, timeout); err != nil {
		return runtime.ExecResult{}, err
	}
	return runtime.ExecResult{ExitCode: code, Stdout: []byte(cmd[0] + " exited " + string(rune('0'+code)))}, nil
}

func (s *scripted) StopContainer(ctx context.Context, id string, grace time.Duration) error {
	s.mu.Lock()
	s.calls = append(s.calls, "stop")
	s.mu.Unlock()
	return s.Runtime.StopContainer(ctx, id, grace)
}

func (s *scripted) ContainerLogs(_ context.Context, _ string, _ runtime.LogOptions, w io.Writer) error {
	_, err := io.WriteString(w, s.logs)
	return err
}

func (s *scripted) set(cmd string, code int32) { s.mu.Lock(); s.codes[cmd] = code; s.mu.Unlock() }

func (s *scripted) log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

type probeHarness struct {
	*harness
	rt    *scripted
	clock *clocktesting.FakeClock
}

// newProbeHarness dials every probe of port 8080 to handler.
func newProbeHarness(t *testing.T, handler http.Handler) *probeHarness {
	t.Helper()
	ph := &probeHarness{clock: clocktesting.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))}
	var local string
	if handler != nil {
		srv := httptest.NewServer(handler)
		t.Cleanup(srv.Close)
		local = srv.Listener.Addr().String()
	}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if !strings.HasSuffix(addr, ":8080") || local == "" {
			addr = "127.0.0.1:1" // refused
		} else {
			addr = local
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	ph.harness = newHarnessWith(t, func(rt *fakert.Runtime) runtime.Runtime {
		ph.rt = &scripted{Runtime: rt, codes: map[string]int32{}}
		return ph.rt
	}, func(o *Options) {
		o.ProbeClock, o.ProbeDialer = ph.clock, dial
	})
	return ph
}

// step moves both clocks.
func (h *probeHarness) step(d time.Duration) {
	h.clock.Step(d)
	h.harness.clock.add(d)
}

// eventually syncs the pod until cond holds for it.
func (h *probeHarness) eventually(name, what string, cond func(*corev1.Pod) bool) *corev1.Pod {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.sync(name)
		p := h.get(name)
		if cond(p) {
			return p
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s: never happened; status %+v", what, p.Status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func hasEvent(events []string, prefix string) bool {
	for _, e := range events {
		if strings.HasPrefix(e, prefix) {
			return true
		}
	}
	return false
}

func TestReadinessProbeFlipsReady(t *testing.T) {
	var code atomic.Int32
	code.Store(200)
	h := newProbeHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(int(code.Load())) }))
	c := ctr("app", "nginx:1")
	c.ReadinessProbe = &corev1.Probe{PeriodSeconds: 1, FailureThreshold: 1, ProbeHandler: corev1.ProbeHandler{
		HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(8080), Path: "/healthz"}}}
	h.create(testPod("web", c))
	h.sync("web")
	if p := h.get("web"); condition(p, corev1.PodReady) != corev1.ConditionFalse || p.Status.ContainerStatuses[0].Ready {
		t.Fatalf("ready before the first probe: %+v", p.Status.Conditions)
	}
	h.eventually("web", "ready", func(p *corev1.Pod) bool {
		return condition(p, corev1.PodReady) == corev1.ConditionTrue && condition(p, corev1.ContainersReady) == corev1.ConditionTrue
	})
	code.Store(500)
	h.step(time.Second)
	p := h.eventually("web", "not ready", func(p *corev1.Pod) bool { return condition(p, corev1.PodReady) == corev1.ConditionFalse })
	if cs := p.Status.ContainerStatuses[0]; cs.Ready || cs.State.Running == nil || cs.RestartCount != 0 {
		t.Errorf("container after readiness failure: %+v", cs)
	}
	if ev := h.drainEvents(); !hasEvent(ev, "Warning Unhealthy Readiness probe failed: HTTP probe failed with statuscode: 500") {
		t.Errorf("events %q lack the Unhealthy event", ev)
	}
}

func TestLivenessFailureRestartsContainer(t *testing.T) {
	h := newProbeHarness(t, nil)
	h.rt.set("alive", 1)
	c := ctr("app", "nginx:1")
	c.LivenessProbe = &corev1.Probe{PeriodSeconds: 10, FailureThreshold: 1, ProbeHandler: corev1.ProbeHandler{
		Exec: &corev1.ExecAction{Command: []string{"alive"}}}}
	c.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"bye"}}}}
	h.create(testPod("live", c))
	h.sync("live")
	p := h.eventually("live", "restart", func(p *corev1.Pod) bool { return p.Status.ContainerStatuses[0].RestartCount >= 1 })
	cs := p.Status.ContainerStatuses[0]
	if cs.LastTerminationState.Terminated == nil {
		t.Errorf("no lastState after a liveness kill: %+v", cs)
	}
	ev := h.drainEvents()
	for _, want := range []string{
		"Warning Unhealthy Liveness probe failed: alive exited 1",
		"Normal Killing Container app failed liveness probe, will be restarted",
	} {
		if !hasEvent(ev, want) {
			t.Errorf("events %q lack %q", ev, want)
		}
	}
	log := strings.Join(h.rt.log(), ",")
	if !strings.Contains(log, "exec bye,stop") {
		t.Errorf("runtime calls %q: preStop did not run before the stop", log)
	}
}

func TestStartupProbeGatesLivenessAndReadiness(t *testing.T) {
	h := newProbeHarness(t, nil)
	h.rt.set("started", 1)
	h.rt.set("alive", 1)
	c := ctr("app", "nginx:1")
	c.StartupProbe = &corev1.Probe{PeriodSeconds: 1, FailureThreshold: 30, ProbeHandler: corev1.ProbeHandler{
		Exec: &corev1.ExecAction{Command: []string{"started"}}}}
	c.LivenessProbe = &corev1.Probe{PeriodSeconds: 1, FailureThreshold: 1, ProbeHandler: corev1.ProbeHandler{
		Exec: &corev1.ExecAction{Command: []string{"alive"}}}}
	h.create(testPod("slow", c))
	h.sync("slow")
	for i := 0; i < 3; i++ {
		h.step(time.Second)
		time.Sleep(20 * time.Millisecond)
	}
	h.sync("slow")
	cs := h.get("slow").Status.ContainerStatuses[0]
	if cs.Started == nil || *cs.Started || cs.Ready || cs.RestartCount != 0 {
		t.Fatalf("while the startup probe fails: %+v", cs)
	}
	if strings.Contains(strings.Join(h.rt.log(), ","), "exec alive") {
		t.Fatalf("the liveness probe ran before the startup probe succeeded: %v", h.rt.log())
	}
	h.rt.set("started", 0)
	h.rt.set("alive", 0)
	h.step(time.Second)
	p := h.eventually("slow", "started", func(p *corev1.Pod) bool {
		cs := p.Status.ContainerStatuses[0]
		return cs.Started != nil && *cs.Started && cs.Ready
	})
	if condition(p, corev1.PodReady) != corev1.ConditionTrue {
		t.Errorf("pod not ready after startup: %+v", p.Status.Conditions)
	}
}

func TestPostStartHookFailureKillsContainer(t *testing.T) {
	h := newProbeHarness(t, nil)
	h.rt.set("setup", 3)
	c := ctr("app", "nginx:1")
	c.Lifecycle = &corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"setup"}}}}
	h.create(testPod("hook", c))
	h.sync("hook")
	cs := h.get("hook").Status.ContainerStatuses[0]
	if cs.State.Waiting == nil || cs.State.Waiting.Reason != "PostStartHookError" || !strings.Contains(cs.State.Waiting.Message, "Exec lifecycle hook ([setup]) for Container \"app\"") {
		t.Fatalf("after a failed postStart hook: %+v", cs.State)
	}
	ev := h.drainEvents()
	if !hasEvent(ev, "Warning FailedPostStartHook Exec lifecycle hook ([setup])") || !hasEvent(ev, "Normal Killing FailedPostStartHook") {
		t.Errorf("events %q", ev)
	}
	h.sync("hook")
	if rc := h.get("hook").Status.ContainerStatuses[0].RestartCount; rc != 1 {
		t.Errorf("restartCount = %d, want 1", rc)
	}
	h.rt.set("setup", 0)
	h.step(time.Minute)
	h.sync("hook")
	if cs := h.get("hook").Status.ContainerStatuses[0]; cs.State.Running == nil || !cs.Ready {
		t.Errorf("after a passing hook: %+v", cs)
	}
}

func TestPreStopRunsBeforeStopWithinGrace(t *testing.T) {
	h := newProbeHarness(t, nil)
	c := ctr("app", "nginx:1")
	c.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"block"}}}}
	side := ctr("side", "nginx:1")
	side.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 60}}}
	pod := testPod("bye", c, side)
	pod.Spec.TerminationGracePeriodSeconds = new(int64)
	*pod.Spec.TerminationGracePeriodSeconds = 1
	h.create(pod)
	h.sync("bye")
	p := h.get("bye")
	now := metav1.NewTime(h.harness.clock.now())
	p.DeletionTimestamp, p.DeletionGracePeriodSeconds = &now, pod.Spec.TerminationGracePeriodSeconds
	if _, err := h.client.CoreV1().Pods("default").Update(context.Background(), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	h.sync("bye")
	if d := time.Since(start); d < 900*time.Millisecond || d > 5*time.Second {
		t.Errorf("deletion took %s, want about the 1s grace period (hooks of both containers in parallel)", d)
	}
	if got := h.rt.log(); len(got) != 3 || got[0] != "exec block" || got[1] != "stop" || got[2] != "stop" {
		t.Errorf("runtime calls %q, want the preStop exec before both stops", got)
	}
	if sbs, _ := h.rt.ListPodSandboxes(context.Background()); len(sbs) != 0 {
		t.Errorf("sandboxes left: %v", sbs)
	}
}

func TestReadinessGates(t *testing.T) {
	h := newHarness(t)
	pod := testPod("gated", ctr("app", "nginx:1"))
	pod.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "example.com/lb"}}
	h.create(pod)
	h.sync("gated")
	p := h.get("gated")
	if condition(p, corev1.ContainersReady) != corev1.ConditionTrue || condition(p, corev1.PodReady) != corev1.ConditionFalse {
		t.Fatalf("conditions %+v, want containers ready and the pod not", p.Status.Conditions)
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && (c.Reason != "ReadinessGatesNotReady" || !strings.Contains(c.Message, `"example.com/lb" does not exist`)) {
			t.Errorf("Ready condition %+v", c)
		}
	}
	p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: "example.com/lb", Status: corev1.ConditionTrue})
	p.ResourceVersion = "2" // the fake clientset does not bump it; the API does
	if _, err := h.client.CoreV1().Pods("default").UpdateStatus(context.Background(), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.sync("gated")
	if got := condition(h.get("gated"), corev1.PodReady); got != corev1.ConditionTrue {
		t.Errorf("Ready = %s once the gate is True", got)
	}
}

func TestTerminationMessageFallsBackToLogs(t *testing.T) {
	h := newProbeHarness(t, nil)
	h.rt.logs = strings.Repeat("noise\n", 500) + "fatal: boom\n"
	c := ctr("app", "crash:1")
	c.TerminationMessagePolicy = corev1.TerminationMessageFallbackToLogsOnError
	pod := testPod("msg", c)
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	h.create(pod)
	h.sync("msg")
	term := h.get("msg").Status.ContainerStatuses[0].State.Terminated
	if term == nil || !strings.HasSuffix(term.Message, "noise\nfatal: boom") || len(term.Message) > 2048 {
		t.Errorf("terminated = %+v, want the log tail (at most 2048 bytes)", term)
	}
}
