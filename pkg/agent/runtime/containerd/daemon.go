package containerd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
)

// daemon is a containerd process tug started and stops.
type daemon struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// daemonConfig is containerd's configuration for a daemon tug starts:
// everything under dir, the CRI plugin off (tug is the CRI-less client).
func daemonConfig(dir, address string) string {
	q := strconv.Quote
	return fmt.Sprintf(`version = 2
root = %s
state = %s
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = %s

[ttrpc]
  address = %s

[plugins."io.containerd.internal.v1.opt"]
  path = %s
`, q(filepath.Join(dir, "root")), q(filepath.Join(dir, "state")), q(address), q(address+".ttrpc"), q(filepath.Join(dir, "opt")))
}

// startDaemon runs binary with a generated config under dir and waits
// until it answers on address.
func startDaemon(ctx context.Context, binary, dir, address string, timeout time.Duration) (*daemon, error) {
	path, err := exec.LookPath(binary)
	if err != nil {
		return nil, fmt.Errorf("no containerd answers on %s and none can be started: %w", address, err)
	}
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(address), 0o711); err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(daemonConfig(dir, address)), 0o600); err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(filepath.Join(dir, "containerd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(path, "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group: a terminal's Ctrl-C reaches tug, which then
	// stops the daemon in order. If tug dies without stopping it, the
	// kernel sends it SIGTERM (its containers keep running in their shims
	// and the next agent adopts them with a containerd of its own).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	d := &daemon{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// The death signal follows the thread that started the child,
		// and the runtime ends a thread whose goroutine exits while
		// locked to it: this thread stays, locked, until the child is
		// gone.
		goruntime.LockOSThread()
		defer goruntime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(d.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start containerd: %w", err)
	}

	deadline := time.Now().Add(timeout)
	for {
		if serving(ctx, address) {
			return d, nil
		}
		select {
		case <-d.done:
			return nil, fmt.Errorf("containerd exited during startup (%v); see %s", cmd.ProcessState, filepath.Join(dir, "containerd.log"))
		case <-ctx.Done():
			d.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			d.stop()
			return nil, fmt.Errorf("containerd did not answer on %s within %v", address, timeout)
		}
	}
}

// serving reports whether a containerd answers on address.
func serving(ctx context.Context, address string) bool {
	if _, err := os.Stat(address); err != nil {
		return false
	}
	c, err := containerd.New(address, containerd.WithTimeout(time.Second))
	if err != nil {
		return false
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	ok, err := c.IsServing(ctx)
	return err == nil && ok
}

// stop sends SIGTERM, waits up to 10s, then SIGKILL.
func (d *daemon) stop() error {
	if d == nil {
		return nil
	}
	select {
	case <-d.done:
		return nil
	default:
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop containerd: %w", err)
	}
	select {
	case <-d.done:
		return nil
	case <-time.After(10 * time.Second):
	}
	_ = d.cmd.Process.Kill()
	<-d.done
	return errors.New("containerd did not stop within 10s of SIGTERM and was killed")
}
