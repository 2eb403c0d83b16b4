package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// server is one running `tug server` process.
type server struct {
	cmd     *exec.Cmd
	dataDir string
	url     string
	started time.Time
	log     *tail
	exited  chan struct{}
	waitErr error
}

// freePort asks the kernel for a free loopback port. Another process could
// take it before the server binds it; the start then fails clearly.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startServer runs bin with a data directory and three free loopback
// ports. It returns as soon as the process has started.
func startServer(bin, dataDir string) (*server, error) {
	var ports [3]int
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	listen := "127.0.0.1:" + strconv.Itoa(ports[0])
	cmd := exec.Command(bin, "server",
		"--listen", listen,
		"--etcd-client-port", strconv.Itoa(ports[1]),
		"--etcd-peer-port", strconv.Itoa(ports[2]),
		"--data-dir", dataDir,
		"--log-level", "warn")
	s := &server{cmd: cmd, dataDir: dataDir, url: "https://" + listen, log: &tail{max: 8 << 10}, exited: make(chan struct{})}
	cmd.Stdout = io.Discard
	cmd.Stderr = s.log
	s.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { s.waitErr = cmd.Wait(); close(s.exited) }()
	return s, nil
}

// probeClient polls /readyz, which answers anonymous callers. The server's
// CA is created during the very start being timed, so the probe does not
// verify the certificate; it only ever talks to 127.0.0.1.
var probeClient = &http.Client{
	Timeout:   time.Second,
	Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
}

// waitReady polls /readyz every 2 ms and returns the time from process
// start to the first "ok".
func (s *server) waitReady(ctx context.Context) (time.Duration, error) {
	for {
		resp, err := probeClient.Get(s.url + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && string(body) == "ok" {
				return time.Since(s.started), nil
			}
		}
		select {
		case <-s.exited:
			return 0, fmt.Errorf("server exited before ready (%v): %s", s.waitErr, s.log)
		case <-ctx.Done():
			return 0, fmt.Errorf("server not ready: %w; log: %s", ctx.Err(), s.log)
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM to the server's process and waits up to 30 s for it to
// exit, then kills it.
func (s *server) stop() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal server %d: %w", s.cmd.Process.Pid, err)
	}
	select {
	case <-s.exited:
		return nil
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("server %d ignored SIGTERM for 30s; killed", s.cmd.Process.Pid)
	}
}

// memory is a process's memory as /proc/<pid>/status reports it, in KiB.
type memory struct {
	RSS, Anon, File, Peak int64
}

func (m memory) String() string {
	return fmt.Sprintf("VmRSS %.1f MiB (anon %.1f, file %.1f), peak %.1f MiB", mib(m.RSS), mib(m.Anon), mib(m.File), mib(m.Peak))
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

func (s *server) memory() (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return memory{}, fmt.Errorf("read server memory: %w", err)
	}
	defer f.Close()
	var m memory
	fields := map[string]*int64{"VmRSS:": &m.RSS, "RssAnon:": &m.Anon, "RssFile:": &m.File, "VmHWM:": &m.Peak}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Fields(sc.Text())
		if len(parts) >= 2 {
			if p, ok := fields[parts[0]]; ok {
				*p, _ = strconv.ParseInt(parts[1], 10, 64)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return memory{}, fmt.Errorf("read server memory: %w", err)
	}
	return m, nil
}

// tail keeps the last max bytes written to it, for error reports.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
