package agent

import (
	"context"
	"net/netip"
	goruntime "runtime"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/tugcluster/tug/pkg/agent/runtime"
	fakert "github.com/tugcluster/tug/pkg/agent/runtime/fake"
)

// BenchmarkSimulatedNodes starts a fleet of 1000 simulated nodes against
// a fake clientset and reports the heap and goroutine stacks per node
// once every node is registered (the clientset's copies of Nodes and
// Leases included).
func BenchmarkSimulatedNodes(b *testing.B) {
	const nodes = 1000
	for i := 0; i < b.N; i++ {
		goruntime.GC()
		var before goruntime.MemStats
		goruntime.ReadMemStats(&before)

		client := fake.NewClientset()
		f, err := NewFleet(client, FleetOptions{
			Count: nodes,
			NewRuntime: func(_ string, cidr netip.Prefix) (runtime.Runtime, error) {
				return fakert.New(fakert.Options{PodCIDR: cidr})
			},
		})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- f.Run(ctx) }()
		for _, a := range f.order {
			select {
			case <-a.Ready():
			case <-time.After(time.Minute):
				b.Fatal("fleet not ready")
			}
		}
		time.Sleep(100 * time.Millisecond) // let the informer settle
		goruntime.GC()
		var after goruntime.MemStats
		goruntime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/nodes, "heap-bytes/node")
		b.ReportMetric(float64(after.StackInuse-before.StackInuse)/nodes, "stack-bytes/node")
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
}
