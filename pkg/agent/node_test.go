package agent

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestRegisterCreatesTheNode(t *testing.T) {
	h := newHarness(t)
	if err := h.agent.register(context.Background()); err != nil {
		t.Fatal(err)
	}
	n, err := h.client.CoreV1().Nodes().Get(context.Background(), "node-a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{LabelHostname: "node-a", LabelOS: "linux", LabelArch: n.Status.NodeInfo.Architecture} {
		if n.Labels[k] != want {
			t.Errorf("label %s = %q, want %q", k, n.Labels[k], want)
		}
	}
	if n.Spec.PodCIDR != "10.42.3.0/24" {
		t.Errorf("podCIDR = %q", n.Spec.PodCIDR)
	}
	if pods := n.Status.Capacity[corev1.ResourcePods]; pods.Cmp(resource.MustParse("110")) != 0 {
		t.Errorf("pods capacity = %s, want 110", pods.String())
	}
	if pods := n.Status.Allocatable[corev1.ResourcePods]; pods.Cmp(resource.MustParse("110")) != 0 {
		t.Errorf("pods allocatable = %s, want 110", pods.String())
	}
	info := n.Status.NodeInfo
	if info.KubeletVersion != "v1.37.2-tug" || info.ContainerRuntimeVersion != "sim://1.0.0" || info.KernelVersion == "" || info.OSImage == "" {
		t.Errorf("nodeInfo = %+v", info)
	}
	want := map[corev1.NodeConditionType]string{
		corev1.NodeReady: "KubeletReady", corev1.NodeMemoryPressure: "KubeletHasSufficientMemory",
		corev1.NodeDiskPressure: "KubeletHasNoDiskPressure", corev1.NodePIDPressure: "KubeletHasSufficientPID",
		corev1.NodeNetworkUnavailable: "RouteCreated",
	}
	for _, c := range n.Status.Conditions {
		if want[c.Type] != c.Reason {
			t.Errorf("condition %s reason %q, want %q", c.Type, c.Reason, want[c.Type])
		}
		wantStatus := corev1.ConditionFalse
		if c.Type == corev1.NodeReady {
			wantStatus = corev1.ConditionTrue
		}
		if c.Status != wantStatus {
			t.Errorf("condition %s = %s, want %s", c.Type, c.Status, wantStatus)
		}
		delete(want, c.Type)
	}
	if len(want) != 0 {
		t.Errorf("missing conditions %v", want)
	}
	if len(n.Status.Addresses) != 2 || n.Status.Addresses[0].Address != "192.0.2.10" {
		t.Errorf("addresses = %v", n.Status.Addresses)
	}
}

func TestRegisterUpdatesAnExistingNodeKeepingOthersFields(t *testing.T) {
	h := newHarness(t)
	taint := corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}
	_, err := h.client.CoreV1().Nodes().Create(context.Background(), &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "node-a", Labels: map[string]string{"team": "blue"}},
		Spec:       corev1.NodeSpec{Taints: []corev1.Taint{taint}, PodCIDR: "10.42.9.0/24", PodCIDRs: []string{"10.42.9.0/24"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.agent.register(context.Background()); err != nil {
		t.Fatal(err)
	}
	n, _ := h.client.CoreV1().Nodes().Get(context.Background(), "node-a", metav1.GetOptions{})
	if n.Labels["team"] != "blue" || n.Labels[LabelHostname] != "node-a" {
		t.Errorf("labels = %v", n.Labels)
	}
	if len(n.Spec.Taints) != 1 || n.Spec.PodCIDR != "10.42.9.0/24" {
		t.Errorf("spec = %+v, want the taint and the assigned podCIDR kept", n.Spec)
	}
	if len(n.Status.Conditions) == 0 || n.Status.NodeInfo.KubeletVersion == "" {
		t.Errorf("status not posted: %+v", n.Status)
	}
}

func TestLeaseIsCreatedAndRenewed(t *testing.T) {
	h := newHarness(t)
	if err := h.agent.register(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := h.agent.renewLease(context.Background()); err != nil {
		t.Fatal(err)
	}
	l, err := h.client.CoordinationV1().Leases(LeaseNamespace).Get(context.Background(), "node-a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *l.Spec.HolderIdentity != "node-a" || *l.Spec.LeaseDurationSeconds != 40 {
		t.Errorf("lease = %+v", l)
	}
	first := l.Spec.RenewTime.Time
	h.clock.add(10 * time.Second)
	if err := h.agent.renewLease(context.Background()); err != nil {
		t.Fatal(err)
	}
	l, _ = h.client.CoordinationV1().Leases(LeaseNamespace).Get(context.Background(), "node-a", metav1.GetOptions{})
	if got := l.Spec.RenewTime.Sub(first); got != 10*time.Second {
		t.Errorf("renewTime moved by %s, want 10s", got)
	}
}

func TestNodeStatusIsPostedOnlyWhenDueOrChanged(t *testing.T) {
	h := newHarness(t)
	if err := h.agent.register(context.Background()); err != nil {
		t.Fatal(err)
	}
	writes := func() int {
		n := 0
		for _, a := range h.client.Actions() {
			if a.GetVerb() == "update" && a.GetResource().Resource == "nodes" {
				n++
			}
		}
		return n
	}
	base := writes()
	h.clock.add(10 * time.Second)
	if err := h.agent.postStatus(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if writes() != base {
		t.Fatalf("unchanged status written after 10s")
	}
	h.agent.opts.Capacity[corev1.ResourcePods] = resource.MustParse("50")
	if err := h.agent.postStatus(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if writes() != base+1 {
		t.Fatalf("changed capacity not written")
	}
	h.clock.add(time.Minute)
	if err := h.agent.postStatus(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if writes() != base+2 {
		t.Fatalf("status not reported after a minute")
	}
	n, _ := h.client.CoreV1().Nodes().Get(context.Background(), "node-a", metav1.GetOptions{})
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady && !c.LastHeartbeatTime.Time.Equal(h.clock.now().Truncate(time.Second)) {
			t.Errorf("heartbeat time %v, want %v", c.LastHeartbeatTime, h.clock.now())
		}
	}
}
