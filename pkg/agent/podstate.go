package agent

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugcluster/tug/pkg/agent/runtime"
	"github.com/tugcluster/tug/pkg/agent/volumes"
)

// podState is the agent's memory of one pod: the newest API object and
// what runs for it. Only the worker syncing the pod touches the fields
// below mu-protected ones (pod, gone, replacement are set by handlers
// under Agent.mu).
type podState struct {
	pod         *corev1.Pod // newest informer object, read-only
	uid         types.UID
	gone        bool        // deleted from the API
	replacement *corev1.Pod // a new pod with the same name waits for teardown
	// deleting: a deletionTimestamp was seen or the pod left the API.
	// It never goes back, whatever pod object arrives later, so nothing
	// is created for the pod any more; the next sync tears it down.
	deleting bool

	sandbox   runtime.Sandbox
	startTime time.Time
	// initialized: every init container completed once (sidecars: started),
	// so the app containers run; later sidecar restarts do not block them.
	initialized bool
	init        []containerState
	app         []containerState
	terminal    corev1.PodPhase // Succeeded or Failed once reached
	// finishedBefore: the API reported the pod finished before this
	// agent ran anything for it; it is only torn down when deleted.
	finishedBefore bool
	torndown       bool

	volumes      volumes.Volumes // set up once volumesReady
	volumesReady bool
	mountBackoff time.Duration

	written         *corev1.PodStatus // last status written
	writtenRV       string            // informer resourceVersion the write was based on
	writtenResultRV string            // resourceVersion the write produced (set under Agent.mu)
}

// containerState tracks one container name across its restarts.
type containerState struct {
	id      string // current instance; "" before the first create
	sidecar bool   // an init container with restartPolicy Always
	// prevID is the instance before id, kept (exited) in the runtime for
	// `kubectl logs --previous` until the next one starts.
	prevID   string
	imageID  string
	restarts int32
	last     runtime.ContainerStatus  // current instance as last observed
	lastTerm *runtime.ContainerStatus // previous instance, for lastState

	waitReason, waitMessage string
	backoff                 time.Duration // restart delay after the next exit
	backoffSince            time.Time     // when the delay was last raised
	pullBackoff             time.Duration
	pullRetryAt             time.Time

	// killed: the agent stopped this instance (failed liveness or
	// startup probe, failed postStart hook), so it restarts unless the
	// restart policy is Never, whatever its exit code.
	killed bool
	// messageChecked: the termination message of this instance was
	// looked for in its logs already.
	messageChecked bool
}

func newPodState(pod *corev1.Pod) *podState {
	st := &podState{
		pod:  pod,
		uid:  pod.UID,
		init: make([]containerState, len(pod.Spec.InitContainers)),
		app:  make([]containerState, len(pod.Spec.Containers)),
	}
	for i := range pod.Spec.InitContainers {
		st.init[i].sidecar = isSidecar(&pod.Spec.InitContainers[i])
	}
	return st
}

// succeeded: the instance exited with code 0.
func (c *containerState) succeeded() bool {
	return c.id != "" && c.last.State == runtime.ContainerExited && c.last.ExitCode == 0
}

// isSidecar: an init container with restartPolicy Always runs beside the
// app containers for the pod's whole life (Kubernetes' native sidecar).
func isSidecar(spec *corev1.Container) bool {
	return spec.RestartPolicy != nil && *spec.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

func (c *containerState) running() bool {
	return c.id != "" && c.last.State == runtime.ContainerRunning
}

func (c *containerState) exited() bool {
	return c.id != "" && c.last.State == runtime.ContainerExited
}
