package agent

import (
	"context"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/pkg/agent/runtime"
	fakert "github.com/tugcluster/tug/pkg/agent/runtime/fake"
)

// drain runs the queued keys that are due, as the workers would.
func (h *harness) drain() {
	h.t.Helper()
	for i := 0; h.agent.queue.Len() > 0; i++ {
		if i > 100 {
			h.t.Fatal("queue does not drain")
		}
		h.agent.processNext(context.Background())
	}
}

// markDeleting sets the pod's deletionTimestamp in the API, as a
// graceful `kubectl delete` does, and returns the updated object
// without handing it to the agent.
func (h *harness) markDeleting(name string) *corev1.Pod {
	h.t.Helper()
	pod := h.get(name)
	now := metav1.NewTime(h.clock.now())
	pod.DeletionTimestamp, pod.DeletionGracePeriodSeconds = &now, new(int64)
	upd, err := h.client.CoreV1().Pods("default").Update(context.Background(), pod, metav1.UpdateOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	return upd
}

// sandboxesOf lists the runtime's sandboxes of one pod UID.
func (h *harness) sandboxesOf(pod *corev1.Pod) []runtime.Sandbox {
	h.t.Helper()
	sbs, err := h.rt.ListPodSandboxes(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	var out []runtime.Sandbox
	for _, sb := range sbs {
		if sb.PodUID == string(pod.UID) {
			out = append(out, sb)
		}
	}
	return out
}

func (h *harness) goneFromAPI(name string) bool {
	_, err := h.client.CoreV1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
	return apierrors.IsNotFound(err)
}

// A sync queued before the deletion, run with the pod object the
// informer held before it (or a stale object delivered again), must not
// bring a deleted pod back.
func TestStalePodObjectAfterDeletionCreatesNothing(t *testing.T) {
	h := newHarness(t)
	h.create(testPod("ready", ctr("app", "nginx:1")))
	h.sync("ready")
	stale := h.get("ready")

	deleting := h.markDeleting("ready")
	h.agent.podChanged(deleting)
	h.agent.queue.Add("default/ready") // a resync or probe change queued meanwhile
	h.drain()
	if !h.goneFromAPI("ready") || len(h.sandboxesOf(stale)) != 0 {
		t.Fatalf("after the deletion: in API %v, sandboxes %v", !h.goneFromAPI("ready"), h.sandboxesOf(stale))
	}
	h.agent.podDeleted(deleting)

	// The stale object arrives again, and more syncs run.
	h.agent.podChanged(stale)
	h.agent.queue.Add("default/ready")
	h.drain()
	h.agent.resyncAll()
	h.drain()
	if sbs := h.sandboxesOf(stale); len(sbs) != 0 {
		t.Errorf("sandboxes created for the deleted pod: %+v", sbs)
	}
	if len(h.agent.pods) != 0 {
		t.Errorf("agent tracks %d pods, want none", len(h.agent.pods))
	}
	if h.rt.PoolFree() != 253 {
		t.Errorf("%d free addresses, want 253", h.rt.PoolFree())
	}
}

// creationHook runs a function inside the runtime's create calls, so a
// test can deliver an informer event while a sync is in the middle of
// creating something.
type creationHook struct {
	*fakert.Runtime
	onSandbox   func()
	onContainer func()
	containers  atomic.Int32
}

func (r *creationHook) RunPodSandbox(ctx context.Context, pod *corev1.Pod) (runtime.Sandbox, error) {
	sb, err := r.Runtime.RunPodSandbox(ctx, pod)
	if f := r.onSandbox; f != nil {
		r.onSandbox = nil
		f()
	}
	return sb, err
}

func (r *creationHook) CreateContainer(ctx context.Context, sb string, cfg runtime.ContainerConfig) (string, error) {
	r.containers.Add(1)
	id, err := r.Runtime.CreateContainer(ctx, sb, cfg)
	if f := r.onContainer; f != nil {
		r.onContainer = nil
		f()
	}
	return id, err
}

// The deletion arrives while the pod's first sync creates its sandbox:
// no container is created after that, and the next sync removes the
// sandbox.
func TestDeletionDuringSandboxCreationLeavesNothing(t *testing.T) {
	var hook *creationHook
	h := newHarnessWith(t, func(rt *fakert.Runtime) runtime.Runtime {
		hook = &creationHook{Runtime: rt}
		return hook
	}, nil)
	pod := testPod("racy", ctr("app", "nginx:1"))
	h.create(pod)
	hook.onSandbox = func() { h.agent.podChanged(h.markDeleting("racy")) }
	h.drain()
	if n := hook.containers.Load(); n != 0 {
		t.Errorf("%d containers created after the deletion was seen", n)
	}
	if sbs := h.sandboxesOf(pod); len(sbs) != 0 || !h.goneFromAPI("racy") {
		t.Errorf("sandboxes left %+v, pod gone from the API %v", sbs, h.goneFromAPI("racy"))
	}
}

// The informer reports the pod gone while a container is being created;
// the pod's next sync tears everything down and nothing comes back.
func TestDeleteEventDuringContainerCreationLeavesNothing(t *testing.T) {
	var hook *creationHook
	h := newHarnessWith(t, func(rt *fakert.Runtime) runtime.Runtime {
		hook = &creationHook{Runtime: rt}
		return hook
	}, nil)
	pod := testPod("racy", ctr("app", "nginx:1"), ctr("side", "nginx:1"))
	h.create(pod)
	hook.onContainer = func() {
		p := h.get("racy")
		if err := h.client.CoreV1().Pods("default").Delete(context.Background(), "racy", metav1.DeleteOptions{}); err != nil {
			t.Error(err)
		}
		h.agent.podDeleted(p)
	}
	h.drain()
	if n := hook.containers.Load(); n != 1 {
		t.Errorf("%d containers created, want only the one in flight when the pod went", n)
	}
	h.agent.resyncAll()
	h.drain()
	if sbs := h.sandboxesOf(pod); len(sbs) != 0 || len(h.agent.pods) != 0 {
		t.Errorf("sandboxes left %+v, pods tracked %d", sbs, len(h.agent.pods))
	}
}

// Sandboxes of pods the agent does not know (created for a pod after it
// was deleted, or left from before a restart) go at the next resync, not
// only at startup, and never before the first list was delivered.
func TestOrphanSandboxesAreRemovedOnResync(t *testing.T) {
	h := newHarness(t)
	h.create(testPod("keep", ctr("app", "nginx:1")))
	h.sync("keep")
	ghost := testPod("ghost", ctr("app", "nginx:1"))
	sb, err := h.rt.RunPodSandbox(context.Background(), ghost)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.rt.CreateContainer(context.Background(), sb.ID, runtime.ContainerConfig{Pod: ghost, Container: &ghost.Spec.Containers[0]}); err != nil {
		t.Fatal(err)
	}

	h.agent.resyncAll() // before the pod source is synced: nothing goes
	h.drain()
	if len(h.sandboxesOf(ghost)) != 1 {
		t.Fatal("a sandbox was removed before the first pod list arrived")
	}
	h.agent.podsSynced()
	h.drain()
	if len(h.sandboxesOf(ghost)) != 0 {
		t.Fatal("orphaned sandbox kept after the first list")
	}

	sb, err = h.rt.RunPodSandbox(context.Background(), ghost)
	if err != nil {
		t.Fatal(err)
	}
	h.agent.resyncAll()
	h.drain()
	if sbs := h.sandboxesOf(ghost); len(sbs) != 0 {
		t.Errorf("orphaned sandbox %s kept after a resync", sb.ID)
	}
	if sbs := h.sandboxesOf(h.get("keep")); len(sbs) != 1 || sbs[0].State != runtime.SandboxReady {
		t.Errorf("the running pod's sandboxes = %+v, want its one ready sandbox", sbs)
	}
}

// The agent restarts while a pod it ran is being deleted: the new agent
// removes the sandbox it finds for it and finishes the deletion.
func TestRestartDuringDeletionRemovesTheOldSandbox(t *testing.T) {
	h := newHarness(t)
	pod := testPod("doomed", ctr("app", "nginx:1"))
	h.create(pod)
	h.sync("doomed")
	deleting := h.markDeleting("doomed") // the old agent never saw it

	b, err := New(h.client, h.rt, Options{NodeName: "node-a", Now: h.clock.now, Recorder: h.events})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.probeMgr.Close)
	if err := b.adopt(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.agent = b
	// The orphan sweep runs before the pod's sync, while the pod is
	// known: the pod's teardown must remove the sandbox.
	b.podsSynced()
	b.podChanged(deleting)
	h.drain()
	if sbs := h.sandboxesOf(pod); len(sbs) != 0 || !h.goneFromAPI("doomed") || h.rt.PoolFree() != 253 {
		t.Errorf("sandboxes left %+v, gone from the API %v, free addresses %d", sbs, h.goneFromAPI("doomed"), h.rt.PoolFree())
	}
}

// A new pod with the same name waits for the old one's teardown; when it
// is deleted before it ever ran, it is not started afterwards.
func TestReplacementDeletedBeforeItRanIsNotStarted(t *testing.T) {
	h := newHarness(t)
	h.create(testPod("same", ctr("app", "nginx:1")))
	h.sync("same")
	old := h.markDeleting("same")
	h.agent.podChanged(old)
	if err := h.client.CoreV1().Pods("default").Delete(context.Background(), "same", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	next := testPod("same", ctr("app", "nginx:1"))
	h.agent.podChanged(next)
	h.agent.podDeleted(next)
	h.drain()
	if sbs := h.sandboxesOf(next); len(sbs) != 0 || len(h.agent.pods) != 0 {
		t.Errorf("replacement sandboxes %+v, pods tracked %d; want none", sbs, len(h.agent.pods))
	}
}
