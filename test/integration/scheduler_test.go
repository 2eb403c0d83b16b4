package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tugcluster/tug/pkg/scheduler"
)

// schedulerRunner runs a scheduler under its own Lease, as a standalone
// component next to the controller manager.
func schedulerRunner(cfg *rest.Config) func(context.Context) error {
	return func(ctx context.Context) error {
		client, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return err
		}
		factory := informers.NewSharedInformerFactory(client, 0)
		defer factory.Shutdown()
		s, err := scheduler.New(client, factory, scheduler.WithLogger(componentLogger()),
			scheduler.WithLeaderElection(scheduler.LeaseConfig{}))
		if err != nil {
			return err
		}
		return s.Run(ctx)
	}
}

// schedNode creates a Ready node that only this test's pods tolerate.
func schedNode(t *testing.T, ns, name, cpu string) {
	t.Helper()
	res := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("110")}
	// Nodes register with their status in the create, as an agent does, so
	// no controller write (a podCIDR) can race a second status update.
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"tug.test/owner": ns}},
		Spec:       corev1.NodeSpec{Taints: []corev1.Taint{{Key: "tug.test/owner", Value: ns, Effect: corev1.TaintEffectNoSchedule}}},
		Status: corev1.NodeStatus{
			Capacity: res, Allocatable: res,
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
				LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}},
		},
	}
	if _, err := cluster.client.CoreV1().Nodes().Create(ctx(t), n, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create node %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cluster.client.CoreV1().Nodes().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

// schedPod creates a pod that goes only to this test's nodes.
func schedPod(t *testing.T, ns, name, cpu string, mutate ...func(*corev1.Pod)) {
	t.Helper()
	zero := int64(0)
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.PodSpec{
			NodeSelector:                  map[string]string{"tug.test/owner": ns},
			Tolerations:                   []corev1.Toleration{{Key: "tug.test/owner", Operator: corev1.TolerationOpEqual, Value: ns}},
			TerminationGracePeriodSeconds: &zero,
			Containers: []corev1.Container{{Name: "c", Image: "busybox", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}}}},
		},
	}
	for _, m := range mutate {
		m(p)
	}
	if _, err := cluster.client.CoreV1().Pods(ns).Create(ctx(t), p, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod %s: %v", name, err)
	}
}

func waitBound(t *testing.T, ns, name, node string) {
	t.Helper()
	eventually(t, 20*time.Second, func() (bool, string) {
		p, err := cluster.client.CoreV1().Pods(ns).Get(ctx(t), name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return p.Spec.NodeName == node, fmt.Sprintf("pod %s on %q, want %q; conditions %+v", name, p.Spec.NodeName, node, p.Status.Conditions)
	})
}

func waitEvent(t *testing.T, ns, pod, reason, contains string) {
	t.Helper()
	eventually(t, 20*time.Second, func() (bool, string) {
		evs, err := cluster.client.CoreV1().Events(ns).List(ctx(t), metav1.ListOptions{
			FieldSelector: fields.OneTermEqualSelector("involvedObject.name", pod).String()})
		if err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, e := range evs.Items {
			if e.InvolvedObject.Name == pod && e.Reason == reason && strings.Contains(e.Message, contains) {
				if e.Source.Component != scheduler.DefaultSchedulerName {
					return false, "event from " + e.Source.Component
				}
				return true, ""
			}
			seen = append(seen, e.Reason+": "+e.Message)
		}
		return false, fmt.Sprintf("no %s event with %q; events %q", reason, contains, seen)
	})
}

func TestSchedulerBindsToFittingNode(t *testing.T) {
	ns := newNamespace(t)
	schedNode(t, ns, ns+"-small", "1")
	schedNode(t, ns, ns+"-big", "4")
	schedPod(t, ns, "web", "2")
	waitBound(t, ns, "web", ns+"-big")
	waitEvent(t, ns, "web", "Scheduled", fmt.Sprintf("Successfully assigned %s/web to %s-big", ns, ns))
	p, err := cluster.client.CoreV1().Pods(ns).Get(ctx(t), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status != corev1.ConditionTrue {
			t.Fatalf("PodScheduled %s", c.Status)
		}
	}
}

func TestSchedulerUnschedulableUntilNodeAppears(t *testing.T) {
	ns := newNamespace(t)
	schedNode(t, ns, ns+"-small", "1")
	schedPod(t, ns, "huge", "64")
	var msg string
	eventually(t, 20*time.Second, func() (bool, string) {
		p, err := cluster.client.CoreV1().Pods(ns).Get(ctx(t), "huge", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				msg = c.Message
				return true, ""
			}
		}
		return false, fmt.Sprintf("conditions %+v", p.Status.Conditions)
	})
	if !strings.HasPrefix(msg, "0/") || !strings.Contains(msg, "nodes are available: ") ||
		!strings.Contains(msg, "1 Insufficient cpu") || !strings.Contains(msg, "preemption: ") {
		t.Fatalf("unexpected message %q", msg)
	}
	waitEvent(t, ns, "huge", "FailedScheduling", "1 Insufficient cpu")
	schedNode(t, ns, ns+"-huge", "128")
	waitBound(t, ns, "huge", ns+"-huge")
}

func TestSchedulerPreemptsLowerPriority(t *testing.T) {
	ns := newNamespace(t)
	schedNode(t, ns, ns+"-only", "2")
	schedPod(t, ns, "low", "2")
	waitBound(t, ns, "low", ns+"-only")
	pc := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: ns + "-high"}, Value: 1000}
	if _, err := cluster.client.SchedulingV1().PriorityClasses().Create(ctx(t), pc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cluster.client.SchedulingV1().PriorityClasses().Delete(context.Background(), pc.Name, metav1.DeleteOptions{})
	})
	schedPod(t, ns, "high", "2", func(p *corev1.Pod) { p.Spec.PriorityClassName = pc.Name })
	eventually(t, 20*time.Second, func() (bool, string) {
		p, err := cluster.client.CoreV1().Pods(ns).Get(ctx(t), "low", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, ""
		}
		if err != nil {
			return false, err.Error()
		}
		return p.DeletionTimestamp != nil, "low still running"
	})
	waitBound(t, ns, "high", ns+"-only")
}
