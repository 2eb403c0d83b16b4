package tugproc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is one running tug process.
type Process struct {
	cmd     *exec.Cmd
	started time.Time
	log     *Tail
	exited  chan struct{}
	waitErr error
}

// Start runs bin with args; stdout is discarded and the last 8 KiB of
// stderr kept for Log.
func Start(bin string, args ...string) (*Process, error) {
	cmd := exec.Command(bin, args...)
	p := &Process{cmd: cmd, log: &Tail{Max: 8 << 10}, exited: make(chan struct{})}
	cmd.Stdout = io.Discard
	cmd.Stderr = p.log
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { p.waitErr = cmd.Wait(); close(p.exited) }()
	return p, nil
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Started is when the process was started.
func (p *Process) Started() time.Time { return p.started }

// Exited is closed when the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// ExitErr is the process's exit error, once Exited is closed.
func (p *Process) ExitErr() error { return p.waitErr }

// Log is the tail of the process's stderr.
func (p *Process) Log() string { return p.log.String() }

// Stop sends SIGTERM and waits up to grace for the process to exit, then
// kills it.
func (p *Process) Stop(grace time.Duration) error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal %d: %w", p.Pid(), err)
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("process %d ignored SIGTERM for %s; killed", p.Pid(), grace)
	}
}

// Memory is a process's memory as /proc/<pid>/status reports it, in KiB.
type Memory struct {
	RSS, Anon, File, Peak int64
}

func (m Memory) String() string {
	return fmt.Sprintf("VmRSS %.1f MiB (anon %.1f, file %.1f), peak %.1f MiB", MiB(m.RSS), MiB(m.Anon), MiB(m.File), MiB(m.Peak))
}

// MiB converts KiB to MiB.
func MiB(kib int64) float64 { return float64(kib) / 1024 }

// Memory reads the process's VmRSS, RssAnon, RssFile and VmHWM.
func (p *Process) Memory() (Memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return Memory{}, fmt.Errorf("read memory of %d: %w", p.Pid(), err)
	}
	defer f.Close()
	var m Memory
	fields := map[string]*int64{"VmRSS:": &m.RSS, "RssAnon:": &m.Anon, "RssFile:": &m.File, "VmHWM:": &m.Peak}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Fields(sc.Text())
		if len(parts) >= 2 {
			if v, ok := fields[parts[0]]; ok {
				*v, _ = strconv.ParseInt(parts[1], 10, 64)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return Memory{}, fmt.Errorf("read memory of %d: %w", p.Pid(), err)
	}
	return m, nil
}

// CPU is the processor time (user + system) the process has used so far.
func (p *Process) CPU() (time.Duration, error) {
	return ProcessCPU(p.Pid())
}

// ProcessCPU reads a process's user + system time from /proc/<pid>/stat.
func ProcessCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read cpu time of %d: %w", pid, err)
	}
	// The command name (field 2) may hold spaces; fields after its ')'
	// start at field 3, so utime and stime (14, 15) are at 11 and 12.
	rest := b[bytes.LastIndexByte(b, ')')+1:]
	f := strings.Fields(string(rest))
	if len(f) < 13 {
		return 0, fmt.Errorf("read cpu time of %d: short stat line", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("read cpu time of %d: bad stat line", pid)
	}
	// Linux reports clock ticks of 1/100 s (USER_HZ).
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// Tail keeps the last Max bytes written to it.
type Tail struct {
	Max int
	mu  sync.Mutex
	buf []byte
}

func (t *Tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.Max; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(b), nil
}

func (t *Tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
