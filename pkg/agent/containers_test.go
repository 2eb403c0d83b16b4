package agent

import (
	"context"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// instances lists the runtime's instances of one container of a pod,
// newest first (the order the streaming server looks them up in: the
// first is the current one, the second what `logs --previous` shows).
func (h *harness) instances(pod *corev1.Pod, name string) []runtime.ContainerStatus {
	h.t.Helper()
	var out []runtime.ContainerStatus
	for _, sb := range h.sandboxesOf(pod) {
		cs, err := h.rt.ListContainers(context.Background(), sb.ID)
		if err != nil {
			h.t.Fatal(err)
		}
		for _, c := range cs {
			if c.Name == name {
				out = append(out, c)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Attempt > out[j].Attempt })
	return out
}

func attempts(cs []runtime.ContainerStatus) []int {
	out := make([]int, len(cs))
	for i, c := range cs {
		out[i] = c.Attempt
	}
	return out
}

// A restart keeps the instance that exited (for `kubectl logs
// --previous`) and removes the one before it; deletion removes both.
func TestRestartKeepsOnePreviousInstance(t *testing.T) {
	h := newHarness(t)
	pod := testPod("crasher", ctr("app", "crash:1"))
	h.create(pod)
	h.sync("crasher") // attempt 0 crashes
	if got := attempts(h.instances(pod, "app")); !cmp.Equal(got, []int{0}) {
		t.Fatalf("instances before a restart = %v, want [0]", got)
	}
	h.sync("crasher") // attempt 1, at once
	for want := 2; want <= 4; want++ {
		h.clock.add(h.sync("crasher")) // back-off, then the next attempt
		h.sync("crasher")
		got := h.instances(pod, "app")
		if diff := cmp.Diff([]int{want, want - 1}, attempts(got)); diff != "" {
			t.Fatalf("instances after restart %d (-want +got):\n%s", want, diff)
		}
		if got[1].State != runtime.ContainerExited {
			t.Errorf("previous instance is %s, want Exited", got[1].State)
		}
		cs := h.get("crasher").Status.ContainerStatuses[0]
		if cs.RestartCount != int32(want) || cs.LastTerminationState.Terminated == nil ||
			cs.LastTerminationState.Terminated.ContainerID != "sim://"+got[1].ID {
			t.Errorf("status after restart %d: restartCount %d lastState %+v, want the previous instance %s",
				want, cs.RestartCount, cs.LastTerminationState.Terminated, got[1].ID)
		}
	}

	h.agent.podChanged(h.markDeleting("crasher"))
	h.drain()
	if got := h.instances(pod, "app"); len(got) != 0 {
		t.Errorf("instances after deletion = %v", attempts(got))
	}
}

// An agent that restarts adopts the current and the previous instance:
// the restart count goes on, lastState still names the previous one, and
// the next restart again keeps exactly one previous instance.
func TestAdoptionKeepsPreviousInstance(t *testing.T) {
	h := newHarness(t)
	pod := testPod("crasher", ctr("app", "crash:1"))
	h.create(pod)
	h.sync("crasher")
	h.sync("crasher")
	h.clock.add(h.sync("crasher"))
	h.sync("crasher") // attempt 2 exited, attempt 1 kept
	before := h.get("crasher").Status.ContainerStatuses[0]

	b, err := New(h.client, h.rt, Options{NodeName: "node-a", Now: h.clock.now, Recorder: h.events})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.probeMgr.Close)
	if err := b.adopt(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.agent = b
	h.agent.podChanged(h.get("crasher"))
	st := b.pods["default/crasher"]
	if !b.adoptSandbox(context.Background(), st) {
		t.Fatal("the sandbox was not adopted")
	}
	c := st.app[0]
	if c.restarts != before.RestartCount || "sim://"+c.id != before.ContainerID || c.lastTerm == nil ||
		"sim://"+c.lastTerm.ID != before.LastTerminationState.Terminated.ContainerID {
		t.Errorf("adopted %+v; status before the restart %+v", c, before)
	}

	h.sync("crasher") // restarts at once: the new agent has no back-off yet
	got := h.instances(pod, "app")
	if diff := cmp.Diff([]int{3, 2}, attempts(got)); diff != "" {
		t.Errorf("instances after the adopted container restarted (-want +got):\n%s", diff)
	}
	if sbs := h.sandboxesOf(pod); len(sbs) != 1 {
		t.Errorf("%d sandboxes, want the adopted one", len(sbs))
	}
	if rc := h.get("crasher").Status.ContainerStatuses[0].RestartCount; rc != 3 {
		t.Errorf("restartCount = %d, want 3", rc)
	}
}

// A pod that finished before the agent restarted is not run again by the
// new agent, and its reported status stays.
func TestFinishedPodIsNotRunAgainAfterRestart(t *testing.T) {
	h := newHarness(t)
	pod := testPod("job", ctr("app", "job-complete:1"))
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	h.create(pod)
	h.sync("job")
	h.sync("job")
	before := h.get("job")
	if before.Status.Phase != corev1.PodSucceeded {
		t.Fatalf("phase = %s, want Succeeded", before.Status.Phase)
	}

	b, err := New(h.client, h.rt, Options{NodeName: "node-a", Now: h.clock.now, Recorder: h.events})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.probeMgr.Close)
	if err := b.adopt(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.agent = b
	h.sync("job")
	if got := attempts(h.instances(pod, "app")); !cmp.Equal(got, []int{0}) {
		t.Errorf("instances after the restart = %v, want the finished [0]", got)
	}
	if diff := cmp.Diff(before.Status, h.get("job").Status); diff != "" {
		t.Errorf("status changed by the restart (-before +after):\n%s", diff)
	}
}
