package containerd

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/containerd/containerd/v2/pkg/cio"
)

// logCopier reads a container's stdout and stderr FIFOs (the shim writes
// them) into its CRI log file and to the attached sessions. The FIFOs
// outlive tug: after a restart a new copier reopens them and output
// buffered meanwhile is kept. For a container with stdin it also holds the
// write end of the stdin FIFO.
type logCopier struct {
	io    *cio.DirectIO
	w     *criLogWriter
	out   *broadcaster
	tty   bool
	stdin *stdinPipe // nil: no stdin, or closed before an adoption
	// stdinPath is the stdin FIFO the task is created with ("" for none).
	stdinPath string
	done      chan struct{}
}

// attachLogs opens (creating if needed) the container's FIFOs and starts
// copying them to the log file named by its labels. started says the
// container's task exists already (an adoption after a restart).
func (r *Runtime) attachLogs(id string, labels map[string]string, started bool) (*logCopier, error) {
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
	lc := &logCopier{out: newBroadcaster(), tty: tty, done: make(chan struct{})}
	if labels[labelStdin] == "true" {
		lc.stdinPath = filepath.Join(dir, "stdin")
		var err error
		if lc.stdin, err = openStdin(lc.stdinPath, started, labels[labelStdinOnce] == "true"); err != nil {
			return nil, err
		}
	}
	dio, err := cio.NewDirectIO(context.Background(), cio.NewFIFOSet(cfg, nil))
	if err != nil {
		lc.stdin.close()
		return nil, fmt.Errorf("open output fifos: %w", err)
	}
	w, err := newCRILogWriter(labels[labelLogPath], r.cfg.LogMaxBytes, r.cfg.LogMaxFiles)
	if err != nil {
		lc.stdin.close()
		dio.Close()
		return nil, err
	}
	lc.io, lc.w = dio, w
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.copyStream("stdout", io.TeeReader(dio.Stdout, streamWriter{lc.out, "stdout"}))
	}()
	if dio.Stderr != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.copyStream("stderr", io.TeeReader(dio.Stderr, streamWriter{lc.out, "stderr"}))
		}()
	}
	go func() { wg.Wait(); lc.out.close(); close(lc.done) }()
	r.copiers[id] = lc
	return lc, nil
}

// taskIO is the IO a task is created with: the copier's FIFOs, plus the
// stdin FIFO for a container with stdin.
func (lc *logCopier) taskIO() cio.IO {
	return fifoIO{DirectIO: lc.io, stdin: lc.stdinPath}
}

// fifoIO adds the stdin FIFO to what the task's shim is told to open;
// the runtime opens its own end of it separately.
type fifoIO struct {
	*cio.DirectIO
	stdin string
}

func (f fifoIO) Config() cio.Config {
	c := f.DirectIO.Config()
	c.Stdin = f.stdin
	return c
}

// copier is the running container's log copier, or nil.
func (r *Runtime) copier(id string) *logCopier {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.copiers[id]
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

// abandon closes the FIFOs and the log file without waiting and ends the
// attached sessions. The process's stdin stays open: the shim holds a
// write end too.
func (lc *logCopier) abandon() {
	lc.stdin.close()
	lc.out.close()
	lc.io.Cancel()
	_ = lc.io.Close()
	select {
	case <-lc.done:
	case <-time.After(100 * time.Millisecond):
	}
	_ = lc.w.Close()
}
