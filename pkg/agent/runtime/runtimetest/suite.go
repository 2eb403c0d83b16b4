package runtimetest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// NewFunc returns a fresh, empty runtime for one test and arranges its
// cleanup with t.Cleanup.
type NewFunc func(t *testing.T) runtime.Runtime

// Option tunes the suite for an implementation.
type Option func(*config)

type config struct {
	image   string
	command []string
}

// WithImage sets the image the suite runs (default "registry.tug.test/
// sleeper:1") and the command that keeps it running until stopped.
func WithImage(ref string, command ...string) Option {
	return func(c *config) { c.image, c.command = ref, command }
}

// RunTests runs the conformance suite as subtests of t.
func RunTests(t *testing.T, newRuntime NewFunc, opts ...Option) {
	cfg := config{image: "registry.tug.test/sleeper:1", command: []string{"sleep", "3600"}}
	for _, o := range opts {
		o(&cfg)
	}
	s := &suite{cfg: cfg, newRuntime: newRuntime}
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, rt runtime.Runtime)
	}{
		{"Version", s.testVersion},
		{"SandboxLifecycle", s.testSandboxLifecycle},
		{"SandboxAddressesAreDistinctAndReused", s.testSandboxAddresses},
		{"PullImage", s.testPullImage},
		{"ContainerLifecycle", s.testContainerLifecycle},
		{"RestartAttemptsAreDistinct", s.testAttempts},
		{"ListForAdoption", s.testList},
		{"TeardownIsIdempotent", s.testIdempotentTeardown},
		{"StopSandboxStopsContainers", s.testStopSandboxStopsContainers},
		{"NotFound", s.testNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newRuntime(t)) })
	}
}

type suite struct {
	cfg        config
	newRuntime NewFunc
}

var podSeq atomic.Int64

func (s *suite) pod(name string) *corev1.Pod {
	n := podSeq.Add(1)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "runtimetest", UID: types.UID(fmt.Sprintf("uid-%s-%d", name, n))},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "main", Image: s.cfg.image, Command: s.cfg.command},
			{Name: "side", Image: s.cfg.image, Command: s.cfg.command},
		}},
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// run starts a sandbox with the pod's first container running.
func (s *suite) run(t *testing.T, rt runtime.Runtime, pod *corev1.Pod) (runtime.Sandbox, string) {
	t.Helper()
	ctx := testCtx(t)
	sb, err := rt.RunPodSandbox(ctx, pod)
	if err != nil {
		t.Fatalf("RunPodSandbox: %v", err)
	}
	id := s.startContainer(t, rt, sb, pod, 0, 0)
	return sb, id
}

func (s *suite) startContainer(t *testing.T, rt runtime.Runtime, sb runtime.Sandbox, pod *corev1.Pod, index, attempt int) string {
	t.Helper()
	ctx := testCtx(t)
	imageID, err := rt.PullImage(ctx, s.cfg.image, nil)
	if err != nil {
		t.Fatalf("PullImage: %v", err)
	}
	id, err := rt.CreateContainer(ctx, sb.ID, runtime.ContainerConfig{Pod: pod, Container: &pod.Spec.Containers[index], Attempt: attempt, ImageID: imageID})
	if err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	return id
}

func (s *suite) teardown(t *testing.T, rt runtime.Runtime, sandboxID string) {
	t.Helper()
	ctx := testCtx(t)
	if err := rt.StopPodSandbox(ctx, sandboxID); err != nil {
		t.Fatalf("StopPodSandbox: %v", err)
	}
	if err := rt.RemovePodSandbox(ctx, sandboxID); err != nil {
		t.Fatalf("RemovePodSandbox: %v", err)
	}
}

func (s *suite) testVersion(t *testing.T, rt runtime.Runtime) {
	v, err := rt.Version(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if v.RuntimeName == "" || v.RuntimeVersion == "" {
		t.Fatalf("Version = %+v, want name and version", v)
	}
}

func (s *suite) testSandboxLifecycle(t *testing.T, rt runtime.Runtime) {
	ctx := testCtx(t)
	pod := s.pod("lifecycle")
	sb, err := rt.RunPodSandbox(ctx, pod)
	if err != nil {
		t.Fatal(err)
	}
	if sb.ID == "" || sb.PodUID != string(pod.UID) || sb.Namespace != pod.Namespace || sb.Name != pod.Name {
		t.Errorf("sandbox identity = %+v, want the pod's", sb)
	}
	if _, err := netip.ParseAddr(sb.IP); err != nil {
		t.Errorf("sandbox IP %q: %v", sb.IP, err)
	}
	if sb.State != runtime.SandboxReady {
		t.Errorf("state = %s, want %s", sb.State, runtime.SandboxReady)
	}
	s.teardown(t, rt, sb.ID)
	list, err := rt.ListPodSandboxes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range list {
		if l.ID == sb.ID {
			t.Errorf("removed sandbox %s is still listed", sb.ID)
		}
	}
}

func (s *suite) testSandboxAddresses(t *testing.T, rt runtime.Runtime) {
	ctx := testCtx(t)
	seen := map[string]bool{}
	var ids []string
	for i := 0; i < 5; i++ {
		sb, err := rt.RunPodSandbox(ctx, s.pod(fmt.Sprintf("addr-%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		if seen[sb.IP] {
			t.Errorf("address %s handed out twice", sb.IP)
		}
		seen[sb.IP] = true
		ids = append(ids, sb.ID)
	}
	for _, id := range ids {
		s.teardown(t, rt, id)
	}
	// Addresses return to the pool: many more sandboxes than a small
	// pool holds can be created over time.
	for i := 0; i < 300; i++ {
		sb, err := rt.RunPodSandbox(ctx, s.pod("churn"))
		if err != nil {
			t.Fatalf("sandbox %d after teardown of the previous ones: %v", i, err)
		}
		s.teardown(t, rt, sb.ID)
	}
}

func (s *suite) testPullImage(t *testing.T, rt runtime.Runtime) {
	ctx := testCtx(t)
	a, err := rt.PullImage(ctx, s.cfg.image, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := rt.PullImage(ctx, s.cfg.image, &runtime.Auth{})
	if err != nil {
		t.Fatal(err)
	}
	if a == "" || a != b {
		t.Errorf("image IDs %q and %q, want one stable non-empty ID", a, b)
	}
	if _, err := rt.PullImage(ctx, "", nil); !errors.Is(err, runtime.ErrInvalidImageName) {
		t.Errorf("PullImage(\"\") = %v, want ErrInvalidImageName", err)
	}
}

func (s *suite) testContainerLifecycle(t *testing.T, rt runtime.Runtime) {
	ctx := testCtx(t)
	pod := s.pod("containers")
	before := time.Now().Add(-time.Second)
	sb, id := s.run(t, rt, pod)
	st, err := rt.ContainerStatus(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != runtime.ContainerRunning || st.Name != "main" || st.SandboxID != sb.ID || st.ImageID == "" {
		t.Errorf("status after start = %+v, want running main in %s with an image ID", st, sb.ID)
	}
	if st.StartedAt.Before(before) || st.CreatedAt.After(st.StartedAt) {
		t.Errorf("times created=%v started=%v, want created <= started, both now", st.CreatedAt, st.StartedAt)
	}
	if err := rt.RemoveContainer(ctx, id); err == nil {
		t.Errorf("RemoveContainer of a running container succeeded, want an error")
	}
	if err := rt.StopContainer(ctx, id, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	st, err = rt.ContainerStatus(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != runtime.ContainerExited || st.FinishedAt.Before(st.StartedAt) {
		t.Errorf("status after stop = %+v, want exited with finish after start", st)
	}
	if err := rt.RemoveContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.ContainerStatus(ctx, id); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("status of removed container: %v, want ErrNotFound", err)
	}
	s.teardown(t, rt, sb.ID)
}

func (s *suite) testAttempts(t *testing.T, rt runtime.Runtime) {
	ctx := testCtx(t)
	pod := s.pod("attempts")
	sb, first := s.run(t, rt, pod)
	if err := rt.StopContainer(ctx, first, time.Second); err != nil {
		t.Fatal(err)
	}
	second := s.startContainer(t, rt, sb, pod, 0, 1)
	if second == first {
		t.Fatalf("restart reused container ID %s", first)
	}
	list, err := rt.ListContainers(ctx, sb.ID)
	if err != nil {
		t.Fatal(err)
	}
	attempts := map[int]runtime.ContainerState{}
	for _, c := range list {
		attempts[c.Attempt] = c.State
	}
	if attempts[0] != runtime.ContainerExited || attempts[1] != runtime.ContainerRunning {
		t.Errorf("attempts = %v, want 0 exited and 1 running", attempts)
	}
	s.teardown(t, rt, sb.ID)
}

func (s *suite) testList(t *testing.T, rt runtime.Runtime) {
	ctx := testCtx(t)
	pod := s.pod("adopt")
	sb, main := s.run(t, rt, pod)
	side := s.startContainer(t, rt, sb, pod, 1, 0)
	list, err := rt.ListPodSandboxes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var found *runtime.Sandbox
	for i := range list {
		if list[i].ID == sb.ID {
			found = &list[i]
		}
	}
	if found == nil || found.PodUID != string(pod.UID) || found.IP != sb.IP || found.State != runtime.SandboxReady {
		t.Fatalf("listed sandboxes %+v, want %+v", list, sb)
	}
	cs, err := rt.ListContainers(ctx, sb.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range cs {
		got[c.Name] = c.ID
	}
	if got["main"] != main || got["side"] != side || len(cs) != 2 {
		t.Errorf("listed containers %+v, want main=%s side=%s", cs, main, side)
	}
	s.teardown(t, rt, sb.ID)
}

func (s *suite) testIdempotentTeardown(t *testing.T, rt runtime.Runtime) {
	ctx := testCtx(t)
	sb, id := s.run(t, rt, s.pod("idem"))
	for i := 0; i < 2; i++ {
		if err := rt.StopContainer(ctx, id, time.Second); err != nil {
			t.Fatalf("StopContainer #%d: %v", i+1, err)
		}
	}
	for i := 0; i < 2; i++ {
		if err := rt.RemoveContainer(ctx, id); err != nil {
			t.Fatalf("RemoveContainer #%d: %v", i+1, err)
		}
	}
	s.teardown(t, rt, sb.ID)
	s.teardown(t, rt, sb.ID)
	if err := rt.StopContainer(ctx, id, time.Second); err != nil {
		t.Errorf("StopContainer of a removed container: %v", err)
	}
}

func (s *suite) testStopSandboxStopsContainers(t *testing.T, rt runtime.Runtime) {
	ctx := testCtx(t)
	sb, id := s.run(t, rt, s.pod("stopall"))
	if err := rt.StopPodSandbox(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	st, err := rt.ContainerStatus(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != runtime.ContainerExited {
		t.Errorf("container state after StopPodSandbox = %s, want %s", st.State, runtime.ContainerExited)
	}
	if err := rt.RemovePodSandbox(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.ContainerStatus(ctx, id); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("container of a removed sandbox: %v, want ErrNotFound", err)
	}
}

func (s *suite) testNotFound(t *testing.T, rt runtime.Runtime) {
	ctx := testCtx(t)
	pod := s.pod("missing")
	if _, err := rt.CreateContainer(ctx, "no-such-sandbox", runtime.ContainerConfig{Pod: pod, Container: &pod.Spec.Containers[0]}); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("CreateContainer in a missing sandbox: %v, want ErrNotFound", err)
	}
	if err := rt.StartContainer(ctx, "no-such-container"); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("StartContainer of a missing container: %v, want ErrNotFound", err)
	}
	if _, err := rt.ContainerStatus(ctx, "no-such-container"); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("ContainerStatus of a missing container: %v, want ErrNotFound", err)
	}
	if _, err := rt.ListContainers(ctx, "no-such-sandbox"); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("ListContainers of a missing sandbox: %v, want ErrNotFound", err)
	}
}
