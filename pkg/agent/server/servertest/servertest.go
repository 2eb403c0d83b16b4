// Package servertest gives the agent's streaming API something to serve
// in tests: the in-memory fake runtime plus CRI log files, a few
// interactive commands and constant usage figures.
package servertest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tugcluster/tug/pkg/agent/runtime"
	"github.com/tugcluster/tug/pkg/agent/runtime/fake"
	"github.com/tugcluster/tug/pkg/agent/server/crilog"
)

// Usage every running container reports.
const (
	CPUNanoCores = 250_000_000
	MemoryBytes  = 64 << 20
)

// Runtime is fake.Runtime with logs, exec, attach and stats. Commands:
//
//	echo ARGS…  prints ARGS
//	cat         copies stdin to stdout
//	fail N      prints "failing" to stderr and exits with N
//	size        prints the first terminal size it receives ("WxH")
//
// Attach copies stdin to stdout, like a container running cat.
type Runtime struct {
	*fake.Runtime
	// LogDir holds <containerID>.log files in the CRI format.
	LogDir string
}

var (
	_ runtime.LogReader     = (*Runtime)(nil)
	_ runtime.StreamExecer  = (*Runtime)(nil)
	_ runtime.Attacher      = (*Runtime)(nil)
	_ runtime.StatsProvider = (*Runtime)(nil)
)

// LogPath is where a container's CRI log file is read from.
func (r *Runtime) LogPath(containerID string) string {
	return filepath.Join(r.LogDir, containerID+".log")
}

// AppendLog adds CRI records to a container's log file.
func (r *Runtime) AppendLog(containerID string, records ...string) error {
	f, err := os.OpenFile(r.LogPath(containerID), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, rec := range records {
		if _, err := io.WriteString(f, rec+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// Record formats one CRI log record.
func Record(t time.Time, stream string, partial bool, text string) string {
	tag := "F"
	if partial {
		tag = "P"
	}
	return t.UTC().Format(time.RFC3339Nano) + " " + stream + " " + tag + " " + text
}

// ContainerLogs implements runtime.LogReader over the CRI log file.
func (r *Runtime) ContainerLogs(ctx context.Context, id string, opts runtime.LogOptions, w io.Writer) error {
	if _, err := r.ContainerStatus(ctx, id); err != nil {
		return err
	}
	return crilog.Read(ctx, crilog.Files(r.LogPath(id), 1), opts, w)
}

// Exec implements runtime.StreamExecer with the commands listed above.
func (r *Runtime) Exec(ctx context.Context, id string, o runtime.ExecOptions) (int32, error) {
	st, err := r.ContainerStatus(ctx, id)
	if err != nil {
		return 0, err
	}
	if st.State != runtime.ContainerRunning {
		return 0, fmt.Errorf("exec in %s: container is not running", id)
	}
	stdout, stderr := orDiscard(o.Stdout), orDiscard(o.Stderr)
	switch o.Cmd[0] {
	case "echo":
		_, err = fmt.Fprintln(stdout, strings.Join(o.Cmd[1:], " "))
	case "cat":
		if o.Stdin != nil {
			_, err = io.Copy(stdout, o.Stdin)
		}
	case "fail":
		var code int32 = 1
		if len(o.Cmd) > 1 {
			_, _ = fmt.Sscan(o.Cmd[1], &code)
		}
		_, _ = fmt.Fprintln(stderr, "failing")
		return code, nil
	case "size":
		select {
		case size, ok := <-o.Resize:
			if ok {
				_, err = fmt.Fprintf(stdout, "%dx%d\n", size.Width, size.Height)
			}
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	default:
		_, _ = fmt.Fprintf(stderr, "%s: command not found\n", o.Cmd[0])
		return 127, nil
	}
	return 0, err
}

// Attach implements runtime.Attacher: the main process echoes stdin lines.
func (r *Runtime) Attach(ctx context.Context, id string, o runtime.AttachOptions) error {
	if _, err := r.ContainerStatus(ctx, id); err != nil {
		return err
	}
	if o.Stdin == nil {
		<-ctx.Done()
		return nil
	}
	sc := bufio.NewScanner(o.Stdin)
	for sc.Scan() {
		if _, err := fmt.Fprintln(orDiscard(o.Stdout), sc.Text()); err != nil {
			return err
		}
	}
	return sc.Err()
}

// ContainerStats implements runtime.StatsProvider with constant figures.
func (r *Runtime) ContainerStats(ctx context.Context, id string) (runtime.Stats, error) {
	if _, err := r.ContainerStatus(ctx, id); err != nil {
		return runtime.Stats{}, err
	}
	return runtime.Stats{Timestamp: time.Now(), CPUUsageNanoCores: CPUNanoCores, MemoryWorkingBytes: MemoryBytes}, nil
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
