package containerd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/containerd/containerd/v2/pkg/cio"
)

// logCopier reads a container's stdout and stderr FIFOs (the shim writes
// them) into its CRI log file. The FIFOs outlive tug: after a restart a
// new copier reopens them and output buffered meanwhile is kept.
type logCopier struct {
	io   *cio.DirectIO
	w    *criLogWriter
	done chan struct{}
}

// attachLogs opens (creating if needed) the container's FIFOs and starts
// copying them to the log file named by its labels.
func (r *Runtime) attachLogs(id string, labels map[string]string) (*logCopier, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if lc, ok := r.copiers[id]; ok {
		return lc, nil
	}
	dir := r.fifoDir(id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	tty := labels[labelTTY] == "true"
	cfg := cio.Config{Stdout: filepath.Join(dir, "stdout"), Terminal: tty}
	if !tty {
		cfg.Stderr = filepath.Join(dir, "stderr")
	}
	dio, err := cio.NewDirectIO(context.Background(), cio.NewFIFOSet(cfg, nil))
	if err != nil {
		return nil, fmt.Errorf("open output fifos: %w", err)
	}
	w, err := newCRILogWriter(labels[labelLogPath], r.cfg.LogMaxBytes, r.cfg.LogMaxFiles)
	if err != nil {
		dio.Close()
		return nil, err
	}
	lc := &logCopier{io: dio, w: w, done: make(chan struct{})}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); w.copyStream("stdout", dio.Stdout) }()
	if dio.Stderr != nil {
		wg.Add(1)
		go func() { defer wg.Done(); w.copyStream("stderr", dio.Stderr) }()
	}
	go func() { wg.Wait(); close(lc.done) }()
	r.copiers[id] = lc
	return lc, nil
}

// drainCopier waits up to d for the container's output to reach EOF.
func (r *Runtime) drainCopier(id string, d time.Duration) {
	r.mu.Lock()
	lc := r.copiers[id]
	r.mu.Unlock()
	if lc == nil {
		return
	}
	select {
	case <-lc.done:
	case <-time.After(d):
	}
}

// dropCopier stops copying and forgets the container's copier.
func (r *Runtime) dropCopier(id string) {
	r.mu.Lock()
	lc := r.copiers[id]
	delete(r.copiers, id)
	r.mu.Unlock()
	if lc != nil {
		lc.abandon()
	}
}

// abandon closes the FIFO read ends and the log file without waiting.
func (lc *logCopier) abandon() {
	lc.io.Cancel()
	_ = lc.io.Close()
	select {
	case <-lc.done:
	case <-time.After(100 * time.Millisecond):
	}
	_ = lc.w.Close()
}
