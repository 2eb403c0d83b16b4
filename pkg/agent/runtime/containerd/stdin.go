package containerd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// stdinPipe is the runtime's write end of a container's stdin FIFO. The
// shim keeps a write end of its own, so the process's stdin stays open
// between attach sessions and across a restart of the runtime; it ends
// only when the container's stdin is closed (stdinOnce).
type stdinPipe struct {
	once bool // stdinOnce: the first session's end closes the stdin

	mu sync.Mutex
	f  *os.File // nil once closed
}

// openStdin opens path (creating the FIFO if needed) for writing. A
// started task's shim is already reading it, so openStdin then opens
// write-only and reports a missing reader (ENXIO: the stdin was closed
// before a restart) as a nil pipe. Before the task exists nobody reads yet,
// and the FIFO is opened read-write so the open does not wait; the
// runtime never reads from it.
func openStdin(path string, started, once bool) (*stdinPipe, error) {
	if err := unix.Mkfifo(path, 0o600); err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, fmt.Errorf("create stdin fifo: %w", err)
	}
	flags := unix.O_RDWR
	if started {
		flags = unix.O_WRONLY
	}
	fd, err := unix.Open(path, flags|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if started && errors.Is(err, unix.ENXIO) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open stdin fifo: %w", err)
	}
	// A non-blocking descriptor goes to the runtime poller, so Close
	// interrupts a write that waits for the process to read.
	return &stdinPipe{once: once, f: os.NewFile(uintptr(fd), path)}, nil
}

// isOpen reports whether the container's stdin still takes input; it is
// nil-safe (no stdin at all).
func (p *stdinPipe) isOpen() bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.f != nil
}

// copyFrom writes r into the container's stdin until r ends or the stdin
// is closed.
func (p *stdinPipe) copyFrom(r io.Reader) {
	p.mu.Lock()
	f := p.f
	p.mu.Unlock()
	if f == nil {
		return
	}
	_, _ = io.Copy(f, r)
}

// close closes the runtime's write end (idempotent) and reports whether
// this call closed it.
func (p *stdinPipe) close() bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.f == nil {
		return false
	}
	_ = p.f.Close()
	p.f = nil
	return true
}
