package scheduler

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// fakeBinder accepts every binding.
type fakeBinder struct {
	mu    sync.Mutex
	bound int
}

func (b *fakeBinder) Bind(_ context.Context, _ *corev1.Pod, _ string) error {
	b.mu.Lock()
	b.bound++
	b.mu.Unlock()
	return nil
}

// BenchmarkSchedule runs the scheduling loop (queue, filters, scores,
// assume, concurrent fake binds) for 10k pods over in-memory nodes and
// reports pods/s.
func BenchmarkSchedule(b *testing.B) {
	const numPods = 10000
	for _, numNodes := range []int{500, 5000} {
		for _, mode := range []string{"plain", "anti-affinity", "spread"} {
			b.Run(fmt.Sprintf("nodes=%d/%s", numNodes, mode), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					snap, q, algo, pods := benchSetup(numNodes, numPods, mode)
					b.StartTimer()
					start := time.Now()
					scheduled := runBench(b, snap, q, algo, len(pods))
					b.ReportMetric(float64(scheduled)/time.Since(start).Seconds(), "pods/s")
				}
			})
		}
	}
}

// benchSetup makes the nodes and queues the pods. Modes: plain; required
// anti-affinity on hostname within groups of 5; spread, where groups of 50
// spread over zones (DoNotSchedule, maxSkew 1) and hosts (ScheduleAnyway).
func benchSetup(numNodes, numPods int, mode string) (*Snapshot, *Queue, *algorithm, []*corev1.Pod) {
	snap := NewSnapshot(nil)
	for i := 0; i < numNodes; i++ {
		snap.SetNode(node(fmt.Sprintf("node-%05d", i), "32", "128Gi", 110,
			map[string]string{"zone": fmt.Sprintf("zone-%d", i%3)}))
	}
	q := NewQueue(nil, time.Second, 10*time.Second, nil)
	var pods []*corev1.Pod
	for i := 0; i < numPods; i++ {
		p := pod(fmt.Sprintf("pod-%05d", i), "100m", "128Mi")
		switch mode {
		case "spread":
			group := map[string]string{"group": fmt.Sprintf("g%d", i/50)}
			p.Labels = group
			p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{
				{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: corev1.DoNotSchedule, LabelSelector: metaSelector(group)},
				{MaxSkew: 1, TopologyKey: "kubernetes.io/hostname", WhenUnsatisfiable: corev1.ScheduleAnyway, LabelSelector: metaSelector(group)},
			}
		case "anti-affinity":
			group := map[string]string{"group": fmt.Sprintf("g%d", i/5)}
			p.Labels = group
			p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
					TopologyKey: "kubernetes.io/hostname", LabelSelector: metaSelector(group)}}}}
		}
		pods = append(pods, p)
		q.Add(p)
	}
	return snap, q, newAlgorithm(snap, nil, false, 0), pods
}

func runBench(b *testing.B, snap *Snapshot, q *Queue, algo *algorithm, n int) int {
	binder := &fakeBinder{}
	slots := make(chan struct{}, 16)
	var wg sync.WaitGroup
	scheduled := 0
	for i := 0; i < n; i++ {
		qp, err := q.Pop(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		pi := newPodInfo(qp.pod, 0)
		res := algo.schedule(pi)
		if res.node == "" {
			b.Fatalf("pod %s: %s", pi.Key, noNodesMessage(res.numNodes, res.failures, res.podErr, ""))
		}
		snap.Assume(pi, res.node)
		q.Done(qp.key)
		scheduled++
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			_ = binder.Bind(context.Background(), pi.Pod, res.node)
		}()
	}
	wg.Wait()
	return scheduled
}
