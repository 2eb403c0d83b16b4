package registry

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestPodTableColumns(t *testing.T) {
	want := []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP*", "NODE*", "NOMINATED NODE*", "READINESS GATES*"}
	got := columnNames(coreResource(t, "pods"))
	if len(got) != len(want) {
		t.Fatalf("columns %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("column %d is %q, want %q", i, got[i], want[i])
		}
	}
}

func running(name string, ready bool, restarts int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, Ready: ready, RestartCount: restarts,
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
}

func waiting(name, reason string, restarts int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, RestartCount: restarts,
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}}
}

func terminated(name, reason string, code int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name,
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: reason, ExitCode: code}}}
}

func TestPodTableRow(t *testing.T) {
	r := coreResource(t, "pods")
	base := &corev1.Pod{
		ObjectMeta: objectMeta("web"),
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}, {Name: "b"}}},
	}
	twoInits := mutated(base, func(p *corev1.Pod) {
		p.Spec.InitContainers = []corev1.Container{{Name: "i1"}, {Name: "i2"}}
		p.Status.Phase = corev1.PodPending
	})
	restartedAt := metav1.NewTime(time.Now().Add(-5 * time.Minute))

	tests := []struct {
		name string
		pod  *corev1.Pod
		want []any
	}{
		{"pending, not scheduled", mutated(base, func(p *corev1.Pod) { p.Status.Phase = corev1.PodPending }),
			[]any{"web", "0/2", "Pending", "0", "AGE", "<none>", "<none>", "<none>", "<none>"}},
		{"running and ready", mutated(base, func(p *corev1.Pod) {
			p.Spec.NodeName = "node-1"
			p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.42.0.3", PodIPs: []corev1.PodIP{{IP: "10.42.0.3"}},
				ContainerStatuses: []corev1.ContainerStatus{running("a", true, 0), running("b", true, 0)}}
		}), []any{"web", "2/2", "Running", "0", "AGE", "10.42.0.3", "node-1", "<none>", "<none>"}},
		{"crash loop with last restart", mutated(base, func(p *corev1.Pod) {
			cs := waiting("b", "CrashLoopBackOff", 3)
			cs.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, FinishedAt: restartedAt}
			p.Status = corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{running("a", true, 0), cs}}
		}), []any{"web", "1/2", "CrashLoopBackOff", "3 (5m ago)", "AGE", "<none>", "<none>", "<none>", "<none>"}},
		{"completed", mutated(base, func(p *corev1.Pod) {
			p.Status = corev1.PodStatus{Phase: corev1.PodSucceeded,
				ContainerStatuses: []corev1.ContainerStatus{terminated("a", "Completed", 0), terminated("b", "Completed", 0)}}
		}), []any{"web", "0/2", "Completed", "0", "AGE", "<none>", "<none>", "<none>", "<none>"}},
		{"one completed one running", mutated(base, func(p *corev1.Pod) {
			p.Status = corev1.PodStatus{Phase: corev1.PodRunning,
				Conditions:        []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}},
				ContainerStatuses: []corev1.ContainerStatus{terminated("a", "Completed", 0), running("b", true, 0)}}
		}), []any{"web", "1/2", "NotReady", "0", "AGE", "<none>", "<none>", "<none>", "<none>"}},
		{"exit code without reason", mutated(base, func(p *corev1.Pod) {
			p.Status = corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{terminated("a", "", 2)}}
		}), []any{"web", "0/2", "ExitCode:2", "0", "AGE", "<none>", "<none>", "<none>", "<none>"}},
		{"first init container running", mutated(twoInits, func(p *corev1.Pod) {
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{running("i1", false, 0), waiting("i2", "PodInitializing", 0)}
		}), []any{"web", "0/2", "Init:0/2", "0", "AGE", "<none>", "<none>", "<none>", "<none>"}},
		{"second init container running", mutated(twoInits, func(p *corev1.Pod) {
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{terminated("i1", "Completed", 0), running("i2", false, 0)}
		}), []any{"web", "0/2", "Init:1/2", "0", "AGE", "<none>", "<none>", "<none>", "<none>"}},
		{"init container crashing", mutated(twoInits, func(p *corev1.Pod) {
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{waiting("i1", "CrashLoopBackOff", 4)}
		}), []any{"web", "0/2", "Init:CrashLoopBackOff", "4", "AGE", "<none>", "<none>", "<none>", "<none>"}},
		{"init container failed", mutated(twoInits, func(p *corev1.Pod) {
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{terminated("i1", "", 3)}
		}), []any{"web", "0/2", "Init:ExitCode:3", "0", "AGE", "<none>", "<none>", "<none>", "<none>"}},
		{"sidecar counts as a container", mutated(base, func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "proxy", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways)}}
			p.Status = corev1.PodStatus{Phase: corev1.PodRunning,
				InitContainerStatuses: []corev1.ContainerStatus{{Name: "proxy", Ready: true, Started: ptr.To(true), RestartCount: 1,
					State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}},
				ContainerStatuses: []corev1.ContainerStatus{running("a", true, 0), running("b", true, 2)}}
		}), []any{"web", "3/3", "Running", "3", "AGE", "<none>", "<none>", "<none>", "<none>"}},
		{"terminating", mutated(base, func(p *corev1.Pod) {
			p.DeletionTimestamp = &metav1.Time{Time: time.Now()}
			p.Status = corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{running("a", true, 0), running("b", true, 0)}}
		}), []any{"web", "2/2", "Terminating", "0", "AGE", "<none>", "<none>", "<none>", "<none>"}},
		{"evicted", mutated(base, func(p *corev1.Pod) {
			p.Status = corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted"}
		}), []any{"web", "0/2", "Evicted", "0", "AGE", "<none>", "<none>", "<none>", "<none>"}},
		{"scheduling gated with readiness gates", mutated(base, func(p *corev1.Pod) {
			p.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "example.com/ready"}, {ConditionType: "example.com/lb"}}
			p.Status = corev1.PodStatus{Phase: corev1.PodPending, NominatedNodeName: "node-3", Conditions: []corev1.PodCondition{
				{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonSchedulingGated},
				{Type: "example.com/ready", Status: corev1.ConditionTrue},
			}}
		}), []any{"web", "0/2", "SchedulingGated", "0", "AGE", "<none>", "<none>", "node-3", "1/2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkRow(t, r, tt.pod, tt.want) })
	}
}
