package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tugcluster/tug/bench/internal/tugproc"
)

// monitor samples, every 10 s, how old the oldest node Lease is, how many
// nodes are not Ready, and both processes' memory.
type monitor struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu            sync.Mutex
	samples       int
	maxLeaseAge   time.Duration
	staleLeases   int // most Leases older than 40 s in one sample
	maxNotReady   int
	server, agent tugproc.Memory
	errors        int
}

const leaseGrace = 40 * time.Second

func startMonitor(ctx context.Context, cs *kubernetes.Clientset, server, agent *tugproc.Process) *monitor {
	ctx, cancel := context.WithCancel(ctx)
	m := &monitor{cancel: cancel}
	m.wg.Go(func() {
		for {
			m.sample(ctx, cs, server, agent)
			select {
			case <-ctx.Done():
				return
			case <-time.After(10 * time.Second):
			}
		}
	})
	return m
}

func (m *monitor) sample(ctx context.Context, cs *kubernetes.Clientset, server, agent *tugproc.Process) {
	leases, lerr := cs.CoordinationV1().Leases("kube-node-lease").List(ctx, metav1.ListOptions{ResourceVersion: "0"})
	nodes, nerr := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{ResourceVersion: "0"})
	smem, serr := server.Memory()
	amem, aerr := agent.Memory()
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if lerr != nil || nerr != nil || serr != nil || aerr != nil {
		if ctx.Err() == nil {
			m.errors++
		}
		return
	}
	m.samples++
	stale := 0
	for _, l := range leases.Items {
		if l.Spec.RenewTime == nil {
			continue
		}
		age := now.Sub(l.Spec.RenewTime.Time)
		m.maxLeaseAge = max(m.maxLeaseAge, age)
		if age > leaseGrace {
			stale++
		}
	}
	m.staleLeases = max(m.staleLeases, stale)
	notReady := 0
	for i := range nodes.Items {
		if !nodeReady(&nodes.Items[i]) {
			notReady++
		}
	}
	m.maxNotReady = max(m.maxNotReady, notReady)
	if smem.RSS > m.server.RSS {
		m.server = smem
	}
	if amem.RSS > m.agent.RSS {
		m.agent = amem
	}
}

func (m *monitor) stop() {
	m.cancel()
	m.wg.Wait()
}

func (m *monitor) print(nodes int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Printf("node health over %d samples (every 10 s, %d failed): oldest Lease renewal %.1f s ago, "+
		"at most %d Leases older than %s, at most %d/%d nodes not Ready\n",
		m.samples, m.errors, m.maxLeaseAge.Seconds(), m.staleLeases, leaseGrace, m.maxNotReady, nodes)
	fmt.Printf("agent (%d simulated nodes) at its largest sample: %s\n", nodes, m.agent)
	fmt.Printf("server at its largest sample: %s\n\n", m.server)
}
