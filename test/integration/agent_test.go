package integration

import (
	"context"
	"log/slog"
	"net/netip"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/tugcluster/tug/pkg/agent"
	"github.com/tugcluster/tug/pkg/agent/runtime"
	"github.com/tugcluster/tug/pkg/agent/runtime/fake"
)

func TestSimulatedNodesRunPods(t *testing.T) {
	fleet, err := agent.NewFleet(cluster.client, agent.FleetOptions{
		Count: 3,
		NewRuntime: func(_ string, cidr netip.Prefix) (runtime.Runtime, error) {
			return fake.New(fake.Options{PodCIDR: cidr})
		},
		Template: agent.Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))},
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fleet.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("fleet: %v", err)
		}
		for _, n := range []string{"sim-0", "sim-1", "sim-2"} {
			_ = cluster.client.CoreV1().Nodes().Delete(context.Background(), n, metav1.DeleteOptions{})
			_ = cluster.client.CoordinationV1().Leases(agent.LeaseNamespace).Delete(context.Background(), n, metav1.DeleteOptions{})
		}
	})
	c := ctx(t)

	for _, name := range []string{"sim-0", "sim-1", "sim-2"} {
		pollAgentTest(t, c, "node "+name+" Ready with a Lease", func() (bool, error) {
			n, err := cluster.client.CoreV1().Nodes().Get(c, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			ready := false
			for _, cond := range n.Status.Conditions {
				ready = ready || (cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue)
			}
			l, err := cluster.client.CoordinationV1().Leases(agent.LeaseNamespace).Get(c, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			return ready && l.Spec.RenewTime != nil && len(l.OwnerReferences) == 1 && l.OwnerReferences[0].UID == n.UID, nil
		})
	}

	ns := newNamespace(t)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec:       corev1.PodSpec{NodeName: "sim-1", Containers: []corev1.Container{{Name: "app", Image: "nginx:1"}}},
	}
	created, err := cluster.client.CoreV1().Pods(ns).Create(c, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var running *corev1.Pod
	pollAgentTest(t, c, "pod Running and Ready", func() (bool, error) {
		p, err := cluster.client.CoreV1().Pods(ns).Get(c, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, cond := range p.Status.Conditions {
			if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue && p.Status.Phase == corev1.PodRunning {
				running = p
				return true, nil
			}
		}
		return false, nil
	})
	cidr, _ := agent.NodePodCIDR(agent.DefaultSimPodPool(3), 1)
	if ip, err := netip.ParseAddr(running.Status.PodIP); err != nil || !cidr.Contains(ip) {
		t.Errorf("podIP %q, want an address of %s", running.Status.PodIP, cidr)
	}

	if err := cluster.client.CoreV1().Pods(ns).Delete(c, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	pollAgentTest(t, c, "pod removed", func() (bool, error) {
		p, err := cluster.client.CoreV1().Pods(ns).Get(c, "web", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		return p.UID != created.UID, nil
	})
}

func pollAgentTest(t *testing.T, c context.Context, what string, cond func() (bool, error)) {
	t.Helper()
	err := wait.PollUntilContextTimeout(c, 50*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) { return cond() })
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}
