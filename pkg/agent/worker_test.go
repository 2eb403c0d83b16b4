package agent

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	fakert "github.com/tugcluster/tug/pkg/agent/runtime/fake"
)

func TestPodStartsAndBecomesReady(t *testing.T) {
	h := newHarness(t)
	h.create(testPod("web", ctr("app", "nginx:1")))
	h.sync("web")
	pod := h.get("web")
	if pod.Status.Phase != corev1.PodRunning {
		t.Fatalf("phase = %s, want Running", pod.Status.Phase)
	}
	for _, c := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		if got := condition(pod, c); got != corev1.ConditionTrue {
			t.Errorf("condition %s = %q, want True", c, got)
		}
	}
	if !netip.MustParsePrefix("10.42.3.0/24").Contains(netip.MustParseAddr(pod.Status.PodIP)) || len(pod.Status.PodIPs) != 1 {
		t.Errorf("podIP %q podIPs %v, want one address of 10.42.3.0/24", pod.Status.PodIP, pod.Status.PodIPs)
	}
	if pod.Status.HostIP != "192.0.2.10" || pod.Status.StartTime == nil {
		t.Errorf("hostIP %q startTime %v", pod.Status.HostIP, pod.Status.StartTime)
	}
	cs := pod.Status.ContainerStatuses
	if len(cs) != 1 || cs[0].State.Running == nil || !cs[0].Ready || cs[0].Started == nil || !*cs[0].Started ||
		!strings.HasPrefix(cs[0].ContainerID, "sim://") || !strings.HasPrefix(cs[0].ImageID, "sha256:") || cs[0].Image != "nginx:1" {
		t.Errorf("container status = %+v", cs)
	}
	var reasons []string
	for _, e := range h.drainEvents() {
		reasons = append(reasons, strings.Fields(e)[1])
	}
	if diff := cmp.Diff([]string{"Pulling", "Pulled", "Created", "Started"}, reasons); diff != "" {
		t.Errorf("event reasons (-want +got):\n%s", diff)
	}

	// Nothing changed: another sync writes nothing.
	before := len(h.client.Actions())
	h.sync("web")
	for _, act := range h.client.Actions()[before:] {
		if act.GetVerb() != "get" {
			t.Errorf("unchanged pod caused %s %s", act.GetVerb(), act.GetSubresource())
		}
	}
}

func TestCrashLoopBackOff(t *testing.T) {
	h := newHarness(t)
	h.create(testPod("crasher", ctr("app", "crash:1")))
	if d := h.sync("crasher"); d <= 0 {
		t.Fatalf("a crashed container was not requeued")
	}
	cs := h.get("crasher").Status.ContainerStatuses[0]
	if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 1 || cs.State.Terminated.Reason != "Error" || cs.RestartCount != 0 {
		t.Fatalf("after first crash: %+v", cs)
	}
	h.sync("crasher") // first restart is immediate, and crashes again
	if rc := h.get("crasher").Status.ContainerStatuses[0].RestartCount; rc != 1 {
		t.Fatalf("restartCount = %d, want 1", rc)
	}
	var delays []time.Duration
	for i := 0; i < 4; i++ {
		d := h.sync("crasher")
		cs = h.get("crasher").Status.ContainerStatuses[0]
		if cs.State.Waiting == nil || cs.State.Waiting.Reason != "CrashLoopBackOff" || cs.LastTerminationState.Terminated == nil {
			t.Fatalf("in back-off: %+v", cs)
		}
		if h.get("crasher").Status.Phase != corev1.PodRunning || condition(h.get("crasher"), corev1.PodReady) != corev1.ConditionFalse {
			t.Fatalf("phase %s ready %s, want Running and not ready", h.get("crasher").Status.Phase, condition(h.get("crasher"), corev1.PodReady))
		}
		delays = append(delays, d)
		h.clock.add(d)
		h.sync("crasher") // restarts, crashes
	}
	if diff := cmp.Diff([]time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second}, delays); diff != "" {
		t.Errorf("back-off delays (-want +got):\n%s", diff)
	}
	if rc := h.get("crasher").Status.ContainerStatuses[0].RestartCount; rc != 5 {
		t.Errorf("restartCount = %d, want 5", rc)
	}
	found := false
	for _, e := range h.drainEvents() {
		found = found || strings.Contains(e, "BackOff Back-off restarting failed container app")
	}
	if !found {
		t.Error("no BackOff event")
	}
}

func TestBackoffCapsAtFiveMinutes(t *testing.T) {
	h := newHarness(t)
	h.create(testPod("c", ctr("app", "crash:1")))
	h.sync("c")
	h.sync("c")
	var last time.Duration
	for i := 0; i < 10; i++ {
		last = h.sync("c")
		h.clock.add(last)
		h.sync("c")
	}
	if last != 5*time.Minute {
		t.Errorf("delay after many crashes = %s, want 5m", last)
	}
}

func TestRestartPolicies(t *testing.T) {
	for _, tc := range []struct {
		image    string
		policy   corev1.RestartPolicy
		phase    corev1.PodPhase
		restarts bool
	}{
		{"job-complete", corev1.RestartPolicyNever, corev1.PodSucceeded, false},
		{"job-complete", corev1.RestartPolicyOnFailure, corev1.PodSucceeded, false},
		{"job-complete", corev1.RestartPolicyAlways, corev1.PodRunning, true},
		{"crash", corev1.RestartPolicyNever, corev1.PodFailed, false},
		{"crash", corev1.RestartPolicyOnFailure, corev1.PodRunning, true},
		{"oomkill", corev1.RestartPolicyNever, corev1.PodFailed, false},
	} {
		t.Run(tc.image+"/"+string(tc.policy), func(t *testing.T) {
			h := newHarness(t)
			pod := testPod("p", ctr("app", tc.image))
			pod.Spec.RestartPolicy = tc.policy
			h.create(pod)
			h.sync("p")
			h.sync("p")
			got := h.get("p")
			if got.Status.Phase != tc.phase {
				t.Errorf("phase = %s, want %s", got.Status.Phase, tc.phase)
			}
			if restarted := got.Status.ContainerStatuses[0].RestartCount > 0; restarted != tc.restarts {
				t.Errorf("restarted = %v, want %v", restarted, tc.restarts)
			}
			if tc.phase == corev1.PodSucceeded || tc.phase == corev1.PodFailed {
				if h.rt.PoolFree() != 253 {
					t.Errorf("finished pod still holds its address (%d free)", h.rt.PoolFree())
				}
				if condition(got, corev1.PodReady) != corev1.ConditionFalse || got.Status.PodIP == "" {
					t.Errorf("finished pod: ready=%s podIP=%q, want False and the address kept", condition(got, corev1.PodReady), got.Status.PodIP)
				}
			}
			if tc.image == "oomkill" {
				if term := got.Status.ContainerStatuses[0].State.Terminated; term == nil || term.Reason != "OOMKilled" || term.ExitCode != 137 {
					t.Errorf("terminated = %+v, want OOMKilled 137", term)
				}
			}
		})
	}
}

func TestImagePullBackOff(t *testing.T) {
	h := newHarness(t)
	h.create(testPod("img", ctr("app", "registry.test/fail-pull:1")))
	h.sync("img")
	w := h.get("img").Status.ContainerStatuses[0].State.Waiting
	if w == nil || w.Reason != "ErrImagePull" {
		t.Fatalf("waiting = %+v, want ErrImagePull", w)
	}
	h.sync("img")
	got := h.get("img")
	if w := got.Status.ContainerStatuses[0].State.Waiting; w == nil || w.Reason != "ImagePullBackOff" {
		t.Fatalf("waiting = %+v, want ImagePullBackOff", w)
	}
	if got.Status.Phase != corev1.PodPending {
		t.Errorf("phase = %s, want Pending", got.Status.Phase)
	}
}

func TestInitContainersRunInOrder(t *testing.T) {
	h := newHarness(t)
	pod := testPod("init", ctr("app", "nginx:1"))
	pod.Spec.InitContainers = []corev1.Container{ctr("first", "busybox"), ctr("second", "busybox")}
	pod.Annotations = map[string]string{
		fakert.AnnotationExitCode + ".first":   "0",
		fakert.AnnotationExitCode + ".second":  "0",
		fakert.AnnotationExitAfter + ".second": "30ms",
	}
	h.create(pod)
	h.sync("init")
	got := h.get("init")
	if got.Status.Phase != corev1.PodPending || condition(got, corev1.PodInitialized) != corev1.ConditionFalse {
		t.Fatalf("phase %s initialized %s, want Pending and not initialized", got.Status.Phase, condition(got, corev1.PodInitialized))
	}
	ics := got.Status.InitContainerStatuses
	if ics[0].State.Terminated == nil || ics[0].State.Terminated.Reason != "Completed" || ics[1].State.Running == nil {
		t.Fatalf("init statuses = %+v, want first completed, second running", ics)
	}
	if w := got.Status.ContainerStatuses[0].State.Waiting; w == nil || w.Reason != "PodInitializing" {
		t.Fatalf("app container = %+v, want waiting PodInitializing", got.Status.ContainerStatuses[0].State)
	}
	waitForExit(t, h, "second")
	h.sync("init")
	got = h.get("init")
	if got.Status.Phase != corev1.PodRunning || condition(got, corev1.PodInitialized) != corev1.ConditionTrue || condition(got, corev1.PodReady) != corev1.ConditionTrue {
		t.Fatalf("phase %s conditions %+v, want Running, initialized and ready", got.Status.Phase, got.Status.Conditions)
	}
	var started []string
	for _, e := range h.drainEvents() {
		if name, ok := strings.CutPrefix(e, "Normal Started Started container "); ok {
			started = append(started, name)
		}
	}
	if diff := cmp.Diff([]string{"first", "second", "app"}, started); diff != "" {
		t.Errorf("start order (-want +got):\n%s", diff)
	}
}

func TestFailedInitContainerFailsPodWithRestartNever(t *testing.T) {
	h := newHarness(t)
	pod := testPod("badinit", ctr("app", "nginx:1"))
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	pod.Spec.InitContainers = []corev1.Container{ctr("setup", "crash:1")}
	h.create(pod)
	h.sync("badinit")
	got := h.get("badinit")
	if got.Status.Phase != corev1.PodFailed {
		t.Fatalf("phase = %s, want Failed", got.Status.Phase)
	}
	if got.Status.ContainerStatuses[0].ContainerID != "" {
		t.Errorf("app container started after a failed init container")
	}
}

func TestDeletionStopsContainersAndDeletesPod(t *testing.T) {
	h := newHarness(t)
	h.create(testPod("gone", ctr("app", "nginx:1"), ctr("side", "nginx:1")))
	h.sync("gone")
	h.drainEvents()
	pod := h.get("gone")
	now := metav1.NewTime(h.clock.now())
	pod.DeletionTimestamp, pod.DeletionGracePeriodSeconds = &now, new(int64)
	if _, err := h.client.CoreV1().Pods("default").Update(context.Background(), pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.sync("gone")
	if _, err := h.client.CoreV1().Pods("default").Get(context.Background(), "gone", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("pod still in the API: %v", err)
	}
	if sbs, _ := h.rt.ListPodSandboxes(context.Background()); len(sbs) != 0 || h.rt.PoolFree() != 253 {
		t.Errorf("sandboxes left %v, free addresses %d", sbs, h.rt.PoolFree())
	}
	killing := 0
	for _, e := range h.drainEvents() {
		if strings.HasPrefix(e, "Normal Killing Stopping container") {
			killing++
		}
	}
	if killing != 2 {
		t.Errorf("%d Killing events, want 2", killing)
	}
	var del *metav1.DeleteOptions
	for _, act := range h.client.Actions() {
		if d, ok := act.(interface{ GetDeleteOptions() metav1.DeleteOptions }); ok && act.GetVerb() == "delete" {
			o := d.GetDeleteOptions()
			del = &o
		}
	}
	if del == nil || del.GracePeriodSeconds == nil || *del.GracePeriodSeconds != 0 || del.Preconditions == nil || del.Preconditions.UID == nil || *del.Preconditions.UID != pod.UID {
		t.Errorf("delete options = %+v, want grace 0 and the pod's UID as precondition", del)
	}
	if len(h.agent.pods) != 0 {
		t.Errorf("agent still tracks %d pods", len(h.agent.pods))
	}
}

func TestAdoptionAfterRestart(t *testing.T) {
	h := newHarness(t)
	h.create(testPod("keep", ctr("app", "nginx:1")))
	h.sync("keep")
	first := h.get("keep").Status.ContainerStatuses[0].ContainerID

	// A new agent over the same runtime: it finds the sandbox again.
	b, err := New(h.client, h.rt, Options{NodeName: "node-a", Now: h.clock.now, Recorder: h.events})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.adopt(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.agent = b
	h.sync("keep")
	if got := h.get("keep").Status.ContainerStatuses[0].ContainerID; got != first {
		t.Errorf("container after restart = %s, want the adopted %s", got, first)
	}
	if sbs, _ := h.rt.ListPodSandboxes(context.Background()); len(sbs) != 1 {
		t.Errorf("%d sandboxes, want 1", len(sbs))
	}
}
