package tugproc

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Server is a running `tug server`.
type Server struct {
	*Process
	DataDir string
	URL     string
}

// FreePort asks the kernel for a free loopback port. Another process could
// take it before the server binds it; the start then fails clearly.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// StartServer runs `bin server` on dataDir with the API and the embedded
// etcd on free 127.0.0.1 ports, log level warn, and extra flags appended.
func StartServer(bin, dataDir string, extra ...string) (*Server, error) {
	var ports [3]int
	for i := range ports {
		p, err := FreePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	listen := "127.0.0.1:" + strconv.Itoa(ports[0])
	args := append([]string{"server", "--disable-agent",
		"--listen", listen,
		"--etcd-client-port", strconv.Itoa(ports[1]),
		"--etcd-peer-port", strconv.Itoa(ports[2]),
		"--data-dir", dataDir,
		"--log-level", "warn"}, extra...)
	p, err := Start(bin, args...)
	if err != nil {
		return nil, err
	}
	return &Server{Process: p, DataDir: dataDir, URL: "https://" + listen}, nil
}

// probeClient polls /readyz, which answers anonymous callers. The CA may
// be created by the very start being waited for, so the probe does not
// verify the certificate; it only ever talks to 127.0.0.1.
var probeClient = &http.Client{
	Timeout:   time.Second,
	Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
}

// WaitReady polls /readyz every 2 ms and returns the time from process
// start to the first "ok".
func (s *Server) WaitReady(ctx context.Context) (time.Duration, error) {
	for {
		resp, err := probeClient.Get(s.URL + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && string(body) == "ok" {
				return time.Since(s.Started()), nil
			}
		}
		select {
		case <-s.Exited():
			return 0, fmt.Errorf("server exited before ready (%v): %s", s.ExitErr(), s.Log())
		case <-ctx.Done():
			return 0, fmt.Errorf("server not ready: %w; log: %s", ctx.Err(), s.Log())
		case <-time.After(2 * time.Millisecond):
		}
	}
}
