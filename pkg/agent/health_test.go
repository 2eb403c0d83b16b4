package agent

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/pkg/agent/runtime"
	fakert "github.com/tugcluster/tug/pkg/agent/runtime/fake"
)

// The node's conditions follow what Options.Health measures, with
// Kubernetes' reasons, and are posted when they change.
func TestNodeConditionsFollowHealth(t *testing.T) {
	var h NodeHealth
	hs := newHarnessWith(t, nil, func(o *Options) {
		o.Health = func(context.Context) NodeHealth { return h }
	})
	ctx := context.Background()
	if err := hs.agent.register(ctx); err != nil {
		t.Fatal(err)
	}
	cond := func(typ corev1.NodeConditionType) corev1.NodeCondition {
		t.Helper()
		n, err := hs.client.CoreV1().Nodes().Get(ctx, "node-a", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range n.Status.Conditions {
			if c.Type == typ {
				return c
			}
		}
		t.Fatalf("no %s condition", typ)
		return corev1.NodeCondition{}
	}
	post := func() {
		t.Helper()
		if err := hs.agent.postStatus(ctx, false); err != nil {
			t.Fatal(err)
		}
	}
	if c := cond(corev1.NodeReady); c.Status != corev1.ConditionTrue || c.Reason != "KubeletReady" {
		t.Fatalf("healthy node: Ready %s/%s", c.Status, c.Reason)
	}

	h = NodeHealth{NetworkErr: errors.New("waiting for this node's pod CIDR")}
	post()
	if c := cond(corev1.NodeReady); c.Status != corev1.ConditionFalse || c.Reason != "KubeletNotReady" ||
		!strings.Contains(c.Message, "NetworkReady=false") {
		t.Errorf("network not ready: Ready %s/%s %q", c.Status, c.Reason, c.Message)
	}
	if c := cond(corev1.NodeNetworkUnavailable); c.Status != corev1.ConditionTrue {
		t.Errorf("network not ready: NetworkUnavailable %s", c.Status)
	}

	h = NodeHealth{RuntimeErr: errors.New("connection refused"), MemoryPressure: "low on memory", DiskPressure: "low on disk"}
	post()
	if c := cond(corev1.NodeReady); c.Status != corev1.ConditionFalse || c.Message != "container runtime is down: connection refused" {
		t.Errorf("runtime down: Ready %s %q", c.Status, c.Message)
	}
	if c := cond(corev1.NodeMemoryPressure); c.Status != corev1.ConditionTrue || c.Reason != "KubeletHasInsufficientMemory" {
		t.Errorf("memory: %s/%s", c.Status, c.Reason)
	}
	if c := cond(corev1.NodeDiskPressure); c.Status != corev1.ConditionTrue || c.Reason != "KubeletHasDiskPressure" {
		t.Errorf("disk: %s/%s", c.Status, c.Reason)
	}

	h = NodeHealth{}
	post()
	if c := cond(corev1.NodeReady); c.Status != corev1.ConditionTrue {
		t.Errorf("recovered: Ready %s", c.Status)
	}
	if c := cond(corev1.NodeMemoryPressure); c.Status != corev1.ConditionFalse {
		t.Errorf("recovered: MemoryPressure %s", c.Status)
	}
}

// downRuntime is a runtime whose Version fails while down is set.
type downRuntime struct {
	runtime.Runtime
	down *bool
}

func (r downRuntime) Version(ctx context.Context) (runtime.Version, error) {
	if *r.down {
		return runtime.Version{}, errors.New("connection refused")
	}
	return r.Runtime.Version(ctx)
}

// A runtime that stops answering makes the node NotReady, still posted,
// with the runtime version last reported.
func TestRuntimeDownIsPosted(t *testing.T) {
	down := false
	hs := newHarnessWith(t, func(rt *fakert.Runtime) runtime.Runtime { return downRuntime{rt, &down} }, nil)
	ctx := context.Background()
	if err := hs.agent.register(ctx); err != nil {
		t.Fatal(err)
	}
	down = true
	if err := hs.agent.postStatus(ctx, false); err != nil {
		t.Fatal(err)
	}
	n, err := hs.client.CoreV1().Nodes().Get(ctx, "node-a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady && (c.Status != corev1.ConditionFalse || c.Message != "container runtime is down: connection refused") {
			t.Errorf("Ready %s %q", c.Status, c.Message)
		}
	}
	if n.Status.NodeInfo.ContainerRuntimeVersion == "" {
		t.Error("runtime version lost while the runtime is down")
	}
}
