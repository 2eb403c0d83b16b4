package containerd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// ErrExecTimeout is returned when an exec'd process outlives its timeout.
var ErrExecTimeout = errors.New("exec timed out")

// maxExecOutput bounds what ExecSync keeps of each stream.
const maxExecOutput = 16 << 20

// ExecSync runs cmd in the container and returns its exit code and output.
func (r *Runtime) ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) (runtime.ExecResult, error) {
	var stdout, stderr limitedBuffer
	code, err := r.Exec(ctx, id, runtime.ExecOptions{Cmd: cmd, Stdout: &stdout, Stderr: &stderr, Timeout: timeout})
	return runtime.ExecResult{ExitCode: code, Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}, err
}

// Exec runs a process in the container with the container's user,
// environment and working directory, streaming its standard IO (and
// terminal size changes with TTY), and returns its exit code.
func (r *Runtime) Exec(ctx context.Context, id string, o runtime.ExecOptions) (int32, error) {
	ctx = r.ctx(ctx)
	if len(o.Cmd) == 0 {
		return 0, errors.New("exec: empty command")
	}
	c, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("exec in %s: %w", id, notFound(err))
	}
	task, err := c.Task(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("exec in %s: container is not running: %w", id, notFound(err))
	}
	spec, err := c.Spec(ctx)
	if err != nil {
		return 0, fmt.Errorf("exec in %s: %w", id, err)
	}
	pspec := *spec.Process
	pspec.Args, pspec.Terminal = o.Cmd, o.TTY

	execID := "exec-" + newID()[:16]
	dir := r.fifoDir(id + "-" + execID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	var stdin io.Reader
	stdinDone := make(chan struct{})
	if o.Stdin != nil {
		stdin = &eofNotifier{r: o.Stdin, done: stdinDone}
	}
	stdout, stderr := o.Stdout, o.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	copts := []cio.Opt{cio.WithStreams(stdin, stdout, stderr), cio.WithFIFODir(dir)}
	if o.TTY {
		copts = append(copts, cio.WithTerminal)
	}
	p, err := task.Exec(ctx, execID, &pspec, cio.NewCreator(copts...))
	if err != nil {
		return 0, fmt.Errorf("exec in %s: %w", id, err)
	}
	defer p.Delete(context.WithoutCancel(ctx), containerd.WithProcessKill)
	exited, err := p.Wait(ctx)
	if err != nil {
		return 0, fmt.Errorf("exec in %s: %w", id, err)
	}
	if err := p.Start(ctx); err != nil {
		return 0, fmt.Errorf("exec in %s: %w", id, err)
	}
	if o.Stdin != nil {
		go func() {
			select {
			case <-stdinDone:
				_ = p.CloseIO(ctx, containerd.WithStdinCloser)
			case <-ctx.Done():
			}
		}()
	}
	if o.TTY && o.Resize != nil {
		go forwardResize(ctx, p, o.Resize)
	}
	var timeout <-chan time.Time
	if o.Timeout > 0 {
		timer := time.NewTimer(o.Timeout)
		defer timer.Stop()
		timeout = timer.C
	}
	select {
	case es := <-exited:
		p.IO().Wait()
		code, _, err := es.Result()
		return int32(code), err
	case <-timeout:
		_ = p.Kill(ctx, syscall.SIGKILL)
		<-exited
		return -1, fmt.Errorf("exec in %s: %v: %w", id, o.Timeout, ErrExecTimeout)
	case <-ctx.Done():
		_ = p.Kill(context.WithoutCancel(ctx), syscall.SIGKILL)
		return -1, ctx.Err()
	}
}

// forwardResize applies terminal size changes to the process until the
// channel closes or ctx ends.
func forwardResize(ctx context.Context, p containerd.Process, sizes <-chan runtime.TerminalSize) {
	for {
		select {
		case <-ctx.Done():
			return
		case sz, ok := <-sizes:
			if !ok {
				return
			}
			if sz.Width == 0 || sz.Height == 0 {
				continue
			}
			_ = p.Resize(ctx, uint32(sz.Width), uint32(sz.Height))
		}
	}
}

// eofNotifier closes done when its reader reaches EOF.
type eofNotifier struct {
	r    io.Reader
	done chan struct{}
	eof  bool
}

func (e *eofNotifier) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && !e.eof {
		e.eof = true
		close(e.done)
	}
	return n, err
}

// limitedBuffer keeps the first maxExecOutput bytes written to it.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxExecOutput - b.Len(); room < len(p) {
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return b.Buffer.Write(p)
}
