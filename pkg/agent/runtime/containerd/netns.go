package containerd

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sync"

	"golang.org/x/sys/unix"
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
	if err := os.MkdirAll(n.dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(n.dir, sandboxID)
	if err := CreateNetNS(path); err != nil {
		return "", err
	}
	return path, nil
}

// DeleteNetNS unmounts and removes a namespace file; a missing one is fine.
func (n *LoopbackNetwork) DeleteNetNS(_ context.Context, path string) error {
	return DeleteNetNS(path)
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

// CreateNetNS creates a new network namespace with lo up and bind-mounts
// it on path (created as an empty file).
func CreateNetNS(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return fmt.Errorf("create netns file: %w", err)
	}
	f.Close()
	errc := make(chan error, 1)
	go func() {
		// The thread is left locked (and so discarded) if it cannot
		// return to the original namespace.
		goruntime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(orig)
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			goruntime.UnlockOSThread()
			errc <- fmt.Errorf("unshare netns: %w", err)
			return
		}
		err = unix.Mount("/proc/thread-self/ns/net", path, "", unix.MS_BIND, "")
		if err == nil {
			err = network.LoopbackUp()
		}
		if serr := unix.Setns(orig, unix.CLONE_NEWNET); serr != nil {
			errc <- errors.Join(err, fmt.Errorf("return to host netns: %w", serr))
			return
		}
		goruntime.UnlockOSThread()
		errc <- err
	}()
	if err := <-errc; err != nil {
		_ = DeleteNetNS(path)
		return fmt.Errorf("create netns %s: %w", path, err)
	}
	return nil
}

// DeleteNetNS unmounts a namespace file and removes it.
func DeleteNetNS(path string) error {
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount netns %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove netns %s: %w", path, err)
	}
	return nil
}
