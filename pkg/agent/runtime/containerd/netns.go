package containerd

import (
	"context"
	"errors"
	"net/netip"
	"sync"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/pkg/network"
)

// LoopbackNetwork is a SandboxNetwork without any link to the outside:
// each sandbox gets a fresh network namespace whose only interface is
// lo, and a distinct address from 127.1.0.0/16 (which lo answers inside
// the namespace). Tests and single-pod experiments use it.
type LoopbackNetwork struct {
	dir string

	mu    sync.Mutex
	used  map[netip.Addr]string // address → sandbox ID
	byID  map[string]netip.Addr
	next  netip.Addr
	first netip.Addr
}

// NewLoopbackNetwork keeps its namespace files in dir.
func NewLoopbackNetwork(dir string) *LoopbackNetwork {
	first := netip.MustParseAddr("127.1.0.1")
	return &LoopbackNetwork{dir: dir, used: map[netip.Addr]string{}, byID: map[string]netip.Addr{}, next: first, first: first}
}

// CreateNetNS makes a network namespace bound to <dir>/<sandboxID> with
// lo up.
func (n *LoopbackNetwork) CreateNetNS(_ context.Context, sandboxID string) (string, error) {
	return network.CreateNetNS(n.dir, sandboxID)
}

// DeleteNetNS unmounts and removes a namespace file; a missing one is fine.
func (n *LoopbackNetwork) DeleteNetNS(_ context.Context, path string) error {
	return network.DeleteNetNS(path)
}

// Setup hands out the sandbox's address (the same one when repeated).
func (n *LoopbackNetwork) Setup(_ context.Context, sandboxID, _ string, _ *corev1.Pod) (netip.Addr, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if a, ok := n.byID[sandboxID]; ok {
		return a, nil
	}
	pool := netip.MustParsePrefix("127.1.0.0/16")
	for i := 0; i < 1<<16; i++ {
		a := n.next
		if n.next = a.Next(); !pool.Contains(n.next) {
			n.next = n.first
		}
		if last := a.As4()[3]; last == 0 || last == 255 {
			continue
		}
		if _, taken := n.used[a]; !taken {
			n.used[a], n.byID[sandboxID] = sandboxID, a
			return a, nil
		}
	}
	return netip.Addr{}, errors.New("loopback network: no free address")
}

// Teardown returns the sandbox's address to the pool.
func (n *LoopbackNetwork) Teardown(_ context.Context, sandboxID, _ string, _ *corev1.Pod) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if a, ok := n.byID[sandboxID]; ok {
		delete(n.used, a)
		delete(n.byID, sandboxID)
	}
	return nil
}
