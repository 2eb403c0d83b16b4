package agent

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/pkg/agent/runtime"
	fakert "github.com/tugcluster/tug/pkg/agent/runtime/fake"
)

func sidecar(name, image string) corev1.Container {
	c := ctr(name, image)
	always := corev1.ContainerRestartPolicyAlways
	c.RestartPolicy = &always
	return c
}

// A sidecar (init container with restartPolicy Always) starts in its
// place among the init containers, lets the next one go once it runs,
// keeps running beside the app containers and counts for readiness.
func TestSidecarRunsBesideTheApp(t *testing.T) {
	h := newHarness(t)
	pod := testPod("side", ctr("app", "nginx:1"))
	pod.Spec.InitContainers = []corev1.Container{ctr("setup", "busybox"), sidecar("proxy", "envoy:1"), ctr("migrate", "busybox")}
	pod.Annotations = map[string]string{fakert.AnnotationExitCode + ".setup": "0", fakert.AnnotationExitCode + ".migrate": "0"}
	h.create(pod)
	h.sync("side")
	got := h.get("side")
	if got.Status.Phase != corev1.PodRunning || condition(got, corev1.PodInitialized) != corev1.ConditionTrue || condition(got, corev1.PodReady) != corev1.ConditionTrue {
		t.Fatalf("phase %s initialized %s ready %s, want Running, initialized and ready", got.Status.Phase,
			condition(got, corev1.PodInitialized), condition(got, corev1.PodReady))
	}
	ics := got.Status.InitContainerStatuses
	if ics[0].State.Terminated == nil || ics[1].State.Running == nil || !ics[1].Ready || ics[2].State.Terminated == nil {
		t.Fatalf("init statuses %+v, want setup and migrate completed, proxy running and ready", ics)
	}
	if got.Status.ContainerStatuses[0].State.Running == nil {
		t.Fatalf("app %+v, want running", got.Status.ContainerStatuses[0].State)
	}
}

// A pod whose app containers finished completes although its sidecar
// still ran; the sidecar is stopped with the pod.
func TestSidecarDoesNotKeepAFinishedPodRunning(t *testing.T) {
	h := newHarness(t)
	pod := testPod("job", ctr("work", "complete:1"))
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	pod.Spec.InitContainers = []corev1.Container{sidecar("logger", "fluent:1")}
	h.create(pod)
	h.sync("job")
	waitForExit(t, h, "work")
	h.sync("job")
	if got := h.get("job"); got.Status.Phase != corev1.PodSucceeded {
		t.Fatalf("phase %s, want Succeeded", got.Status.Phase)
	}
	if sbs, _ := h.rt.ListPodSandboxes(context.Background()); len(sbs) == 1 {
		cs, _ := h.rt.ListContainers(context.Background(), sbs[0].ID)
		for _, c := range cs {
			if c.Name == "logger" && c.State == runtime.ContainerRunning {
				t.Error("sidecar still running after the pod completed")
			}
		}
	}
}

// A crashing sidecar is restarted whatever the pod's restart policy, and
// never fails the pod; the app waits until the sidecar runs.
func TestCrashingSidecarIsRestartedNotFatal(t *testing.T) {
	h := newHarness(t)
	pod := testPod("flaky", ctr("app", "nginx:1"))
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	pod.Spec.InitContainers = []corev1.Container{sidecar("proxy", "crash:1")}
	h.create(pod)
	for range 2 { // the first restart comes at once, the next after a back-off
		h.sync("flaky")
		waitForExit(t, h, "proxy")
	}
	h.sync("flaky")
	got := h.get("flaky")
	if got.Status.Phase != corev1.PodPending {
		t.Fatalf("phase %s, want Pending while the sidecar cannot run", got.Status.Phase)
	}
	if got.Status.ContainerStatuses[0].ContainerID != "" {
		t.Error("app container started before its sidecar ran")
	}
	if w := got.Status.InitContainerStatuses[0].State.Waiting; w == nil || w.Reason != "CrashLoopBackOff" {
		t.Errorf("sidecar %+v, want waiting in CrashLoopBackOff", got.Status.InitContainerStatuses[0].State)
	}
	if n := got.Status.InitContainerStatuses[0].RestartCount; n < 1 {
		t.Errorf("sidecar restarts = %d, want at least 1", n)
	}
}

// waitForExit waits until the pod's container called name has exited in
// the runtime.
func waitForExit(t *testing.T, h *harness, name string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		sbs, _ := h.rt.ListPodSandboxes(context.Background())
		for _, sb := range sbs {
			cs, _ := h.rt.ListContainers(context.Background(), sb.ID)
			for _, c := range cs {
				if c.Name == name && c.State == runtime.ContainerExited {
					return
				}
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("container %s never exited", name)
}
