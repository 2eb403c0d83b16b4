package apiserver

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
)

func TestSummaryCacheAsksEachAgentOncePerResolution(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	fail := atomic.Bool{}
	c := newSummaryCache(15*time.Second, func(ctx context.Context, n *corev1.Node) (*statsapi.Summary, error) {
		calls.Add(1)
		<-release
		if fail.Load() {
			return nil, errors.New("unreachable")
		}
		return &statsapi.Summary{Node: statsapi.NodeStats{NodeName: n.Name}}, nil
	})
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}

	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if sum, err := c.get(context.Background(), node); err != nil || sum.Node.NodeName != "n1" {
				t.Errorf("get: %v, %v", sum, err)
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("concurrent gets made %d requests, want 1", n)
	}

	now = now.Add(10 * time.Second)
	if _, err := c.get(context.Background(), node); err != nil || calls.Load() != 1 {
		t.Errorf("within the resolution: err %v, %d requests, want 1", err, calls.Load())
	}
	now = now.Add(10 * time.Second)
	fail.Store(true)
	if _, err := c.get(context.Background(), node); err == nil || calls.Load() != 2 {
		t.Errorf("after the resolution: err %v, %d requests, want an error from a 2nd request", err, calls.Load())
	}
	fail.Store(false)
	if _, err := c.get(context.Background(), node); err != nil || calls.Load() != 3 {
		t.Errorf("after a failure: err %v, %d requests, want a 3rd request", err, calls.Load())
	}
}

func TestPodMetricsNeedFigures(t *testing.T) {
	cpu, mem := uint64(250_000_000), uint64(1<<20)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "u1"}}
	stats := func(uid string, withCPU bool) *statsapi.Summary {
		ps := statsapi.PodStats{PodRef: statsapi.PodReference{Name: "web", Namespace: "ns", UID: uid},
			Containers: []statsapi.ContainerStats{{Name: "app"}}}
		if withCPU {
			ps.CPU = &statsapi.CPUStats{UsageNanoCores: &cpu}
			ps.Containers[0].CPU = &statsapi.CPUStats{UsageNanoCores: &cpu}
			ps.Containers[0].Memory = &statsapi.MemoryStats{WorkingSetBytes: &mem}
		}
		return &statsapi.Summary{Pods: []statsapi.PodStats{ps}}
	}
	m, ok := podMetrics(pod, stats("u1", true))
	if !ok || m.Containers[0].Usage.Cpu().MilliValue() != 250 || m.Containers[0].Usage.Memory().Value() != 1<<20 {
		t.Errorf("measured pod: %v %+v", ok, m)
	}
	if _, ok := podMetrics(pod, stats("u1", false)); ok {
		t.Error("pod without figures has metrics")
	}
	if _, ok := podMetrics(pod, stats("old-uid", true)); ok {
		t.Error("a previous pod of the same name lends its metrics")
	}
	if _, ok := podMetrics(pod, nil); ok {
		t.Error("pod on an unreachable node has metrics")
	}
}
