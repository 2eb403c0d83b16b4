package agent

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// The agent's own status write coming back through the watch does not
// sync the pod again; a change of the spec, or a status written by
// someone else, does.
func TestOwnStatusEchoSkipsSync(t *testing.T) {
	h := newHarness(t)
	h.create(testPod("web", ctr("app", "example.test/app:v1")))
	h.sync("web")
	drainQueue(h.agent)
	before := h.agent.pods["default/web"].pod
	echo := h.get("web")
	if echo.Status.Phase != corev1.PodRunning {
		t.Fatalf("phase %s after sync, want Running", echo.Status.Phase)
	}
	handler := podHandler(func(string) *Agent { return h.agent })

	handler.OnUpdate(before, echo)
	if n := h.agent.queue.Len(); n != 0 {
		t.Errorf("queue holds %d keys after the agent's own status write came back, want 0", n)
	}
	if got := h.agent.pods["default/web"].pod; got != echo {
		t.Error("the echoed object was not taken in")
	}

	other := echo.DeepCopy()
	other.ResourceVersion += "1"
	other.Status.Message = "written by someone else"
	handler.OnUpdate(echo, other)
	if n := h.agent.queue.Len(); n != 1 {
		t.Errorf("queue holds %d keys after a status written by someone else, want 1", n)
	}
	drainQueue(h.agent)

	relabeled := echo.DeepCopy()
	relabeled.Labels = map[string]string{"tier": "front"}
	handler.OnUpdate(echo, relabeled)
	if n := h.agent.queue.Len(); n != 1 {
		t.Errorf("queue holds %d keys after a label change, want 1", n)
	}
}

func drainQueue(a *Agent) {
	for a.queue.Len() > 0 {
		k, _ := a.queue.Get()
		a.queue.Done(k)
	}
}
