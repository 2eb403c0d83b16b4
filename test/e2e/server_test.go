//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// server is one `tug server` process started by a test.
type server struct {
	t       *testing.T
	bin     string
	dataDir string
	addr    string
	args    []string
	cmd     *exec.Cmd
	log     *bytes.Buffer
	exited  chan struct{}
}

func tugBinary(t *testing.T) string {
	bin := os.Getenv("TUG_BIN")
	if bin == "" {
		t.Skip("TUG_BIN is not set; run through `make test-e2e`")
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startServer runs `tug server` on free loopback ports with its own data
// dir; it is stopped when the test ends.
func startServer(t *testing.T) *server {
	s := &server{t: t, bin: tugBinary(t), dataDir: t.TempDir()}
	port := freePort(t)
	s.addr = fmt.Sprintf("127.0.0.1:%d", port)
	s.args = []string{"server", "--data-dir", s.dataDir, "--listen", s.addr, "--disable-agent",
		"--etcd-client-port", fmt.Sprint(freePort(t)), "--etcd-peer-port", fmt.Sprint(freePort(t))}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *server) start() {
	s.t.Helper()
	s.log = &bytes.Buffer{}
	s.cmd = exec.Command(s.bin, s.args...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.exited = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	began := time.Now()
	s.waitReady(30 * time.Second)
	s.t.Logf("server ready in %v", time.Since(began))
}

func (s *server) waitReady(timeout time.Duration) {
	s.t.Helper()
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			s.t.Fatalf("tug server exited:\n%s", s.log)
		default:
		}
		resp, err := client.Get("https://" + s.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("tug server not ready in %v:\n%s", timeout, s.log)
}

// stop ends the server gracefully (SIGTERM), killing it if it hangs.
func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		s.t.Errorf("tug server ignored SIGTERM for 20s:\n%s", s.log)
	}
}

func (s *server) kubeconfig() string { return filepath.Join(s.dataDir, "admin.kubeconfig") }

// kubectl runs `tug kubectl` with the server's admin kubeconfig.
func (s *server) kubectl(args ...string) (string, error) {
	return s.kubectlEnv(nil, "", args...)
}

func (s *server) kubectlEnv(env []string, stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, append([]string{"kubectl"}, args...)...)
	cmd.Env = append(append(os.Environ(), "KUBECONFIG="+s.kubeconfig()), env...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// must runs kubectl and fails the test on error.
func (s *server) must(args ...string) string {
	s.t.Helper()
	out, err := s.kubectl(args...)
	if err != nil {
		s.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}
