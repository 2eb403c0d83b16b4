package fake

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/pkg/agent/runtime"
	"github.com/tugcluster/tug/pkg/agent/runtime/runtimetest"
)

func newRuntime(t *testing.T) *Runtime {
	t.Helper()
	rt, err := New(Options{PodCIDR: netip.MustParsePrefix("10.42.7.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

func TestConformance(t *testing.T) {
	runtimetest.RunTests(t, func(t *testing.T) runtime.Runtime { return newRuntime(t) })
}

func TestAddressesComeFromThePodCIDR(t *testing.T) {
	rt := newRuntime(t)
	prefix := netip.MustParsePrefix("10.42.7.0/24")
	seen := map[string]bool{}
	for i := 0; i < 253; i++ {
		sb, err := rt.RunPodSandbox(context.Background(), &corev1.Pod{})
		if err != nil {
			t.Fatalf("sandbox %d: %v", i, err)
		}
		a := netip.MustParseAddr(sb.IP)
		if !prefix.Contains(a) || a == netip.MustParseAddr("10.42.7.1") || a == netip.MustParseAddr("10.42.7.255") || seen[sb.IP] {
			t.Fatalf("address %s: outside %s, reserved or repeated", a, prefix)
		}
		seen[sb.IP] = true
	}
	if _, err := rt.RunPodSandbox(context.Background(), &corev1.Pod{}); err == nil {
		t.Fatal("sandbox 254 in a /24 got an address, want pool exhausted")
	}
	if rt.PoolFree() != 0 {
		t.Errorf("PoolFree = %d, want 0", rt.PoolFree())
	}
	sb, err := rt.RunPodSandbox(context.Background(), &corev1.Pod{Spec: corev1.PodSpec{HostNetwork: true}})
	if err != nil || sb.IP != "" {
		t.Errorf("host-network sandbox = %+v, %v; want no pod address", sb, err)
	}
}

func TestKnobs(t *testing.T) {
	for _, tc := range []struct {
		name        string
		image       string
		annotations map[string]string
		init        bool
		want        runtime.ContainerStatus
	}{
		{"runs", "app:1", nil, false, runtime.ContainerStatus{State: runtime.ContainerRunning}},
		{"crash image", "crash:1", nil, false, runtime.ContainerStatus{State: runtime.ContainerExited, ExitCode: 1, Reason: runtime.ReasonError}},
		{"oom image", "oomkill:1", nil, false, runtime.ContainerStatus{State: runtime.ContainerExited, ExitCode: 137, Reason: runtime.ReasonOOMKilled}},
		{"complete image", "job-complete:1", nil, false, runtime.ContainerStatus{State: runtime.ContainerExited, Reason: runtime.ReasonCompleted}},
		{"pod annotation", "app:1", map[string]string{AnnotationExitCode: "3"}, false, runtime.ContainerStatus{State: runtime.ContainerExited, ExitCode: 3, Reason: runtime.ReasonError}},
		{"pod annotation spares init", "app:1", map[string]string{AnnotationExitCode: "3"}, true, runtime.ContainerStatus{State: runtime.ContainerRunning}},
		{"container annotation wins", "crash:1", map[string]string{AnnotationExitCode + ".c": "0"}, false, runtime.ContainerStatus{State: runtime.ContainerExited, Reason: runtime.ReasonCompleted}},
		{"oom annotation", "app:1", map[string]string{AnnotationExitCode + ".c": "oom"}, true, runtime.ContainerStatus{State: runtime.ContainerExited, ExitCode: 137, Reason: runtime.ReasonOOMKilled}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := newRuntime(t)
			ctx := context.Background()
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Annotations: tc.annotations},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: tc.image}}}}
			sb, err := rt.RunPodSandbox(ctx, pod)
			if err != nil {
				t.Fatal(err)
			}
			id, err := rt.CreateContainer(ctx, sb.ID, runtime.ContainerConfig{Pod: pod, Container: &pod.Spec.Containers[0], Init: tc.init})
			if err != nil {
				t.Fatal(err)
			}
			if err := rt.StartContainer(ctx, id); err != nil {
				t.Fatal(err)
			}
			st, _ := rt.ContainerStatus(ctx, id)
			if st.State != tc.want.State || st.ExitCode != tc.want.ExitCode || st.Reason != tc.want.Reason {
				t.Errorf("state=%s exit=%d reason=%q, want %s %d %q", st.State, st.ExitCode, st.Reason, tc.want.State, tc.want.ExitCode, tc.want.Reason)
			}
		})
	}
}

func TestFailPull(t *testing.T) {
	_, err := newRuntime(t).PullImage(context.Background(), "registry.test/fail-pull:1", nil)
	if !errors.Is(err, runtime.ErrImagePull) {
		t.Fatalf("PullImage = %v, want ErrImagePull", err)
	}
}

func TestBadKnobFailsCreate(t *testing.T) {
	rt := newRuntime(t)
	ctx := context.Background()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{AnnotationExitCode: "lots"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "app"}}}}
	sb, _ := rt.RunPodSandbox(ctx, pod)
	_, err := rt.CreateContainer(ctx, sb.ID, runtime.ContainerConfig{Pod: pod, Container: &pod.Spec.Containers[0]})
	if !errors.Is(err, runtime.ErrCreateContainer) {
		t.Fatalf("CreateContainer = %v, want ErrCreateContainer", err)
	}
}

func TestDelayedExitIsNotified(t *testing.T) {
	rt := newRuntime(t)
	exits := make(chan string, 1)
	rt.NotifyExits(func(_, id string) { exits <- id })
	ctx := context.Background()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{AnnotationExitCode: "0", AnnotationExitAfter: "20ms"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "app"}}}}
	sb, _ := rt.RunPodSandbox(ctx, pod)
	id, _ := rt.CreateContainer(ctx, sb.ID, runtime.ContainerConfig{Pod: pod, Container: &pod.Spec.Containers[0]})
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	if st, _ := rt.ContainerStatus(ctx, id); st.State != runtime.ContainerRunning {
		t.Fatalf("state right after start = %s, want Running", st.State)
	}
	select {
	case got := <-exits:
		if got != id {
			t.Fatalf("exit of %s, want %s", got, id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no exit notification")
	}
	if st, _ := rt.ContainerStatus(ctx, id); st.State != runtime.ContainerExited || st.Reason != runtime.ReasonCompleted {
		t.Fatalf("status = %+v, want exited, Completed", st)
	}
}
