package probes

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

const podIP = "10.42.0.7"

// routes maps pod-address host:port pairs to local listeners, standing
// in for the pod network.
type routes struct {
	mu sync.Mutex
	m  map[string]string
}

func (r *routes) add(podAddr, local string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]string{}
	}
	r.m[podAddr] = local
}

func (r *routes) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	r.mu.Lock()
	local, ok := r.m[addr]
	r.mu.Unlock()
	if !ok {
		// Nothing listens there: refuse as an unused local port would.
		local = "127.0.0.1:1"
	}
	var d net.Dialer
	return d.DialContext(ctx, network, local)
}

// serve starts srv (plain or TLS) and routes podIP:port to it.
func serve(t *testing.T, r *routes, port string, h http.Handler, tls bool) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	r.add(net.JoinHostPort(podIP, port), srv.Listener.Addr().String())
}

func target(c *corev1.Container) Target {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "u1"}}
	return Target{Pod: pod, Container: c, ContainerID: "c1", PodIP: podIP}
}

func httpProbe(port intstr.IntOrString, path string) *corev1.Probe {
	return &corev1.Probe{TimeoutSeconds: 1, ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: port, Path: path}}}
}

func TestHTTPProbe(t *testing.T) {
	r := &routes{}
	var gotHost, gotUA, gotAccept, gotCustom string
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, req *http.Request) {
		gotHost, gotUA, gotAccept, gotCustom = req.Host, req.UserAgent(), req.Header.Get("Accept"), req.Header.Get("X-Check")
		_, _ = w.Write([]byte("fine"))
	})
	mux.HandleFunc("/bad", func(w http.ResponseWriter, req *http.Request) { w.WriteHeader(500) })
	mux.HandleFunc("/same", func(w http.ResponseWriter, req *http.Request) { http.Redirect(w, req, "/bad", http.StatusFound) })
	mux.HandleFunc("/other", func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, "http://example.invalid/ok", http.StatusFound)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, req *http.Request) {
		select {
		case <-time.After(3 * time.Second):
		case <-req.Context().Done():
		}
	})
	serve(t, r, "8080", mux, false)
	serve(t, r, "8443", mux, true)
	p := NewProber(WithDialer(r.dial))
	c := &corev1.Container{Name: "app", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}

	for _, tc := range []struct {
		name   string
		probe  *corev1.Probe
		result Result
		msg    string
	}{
		{"success", httpProbe(intstr.FromInt32(8080), "/ok"), Success, "fine"},
		{"named port", httpProbe(intstr.FromString("http"), "ok"), Success, "fine"},
		{"status 500", httpProbe(intstr.FromInt32(8080), "/bad"), Failure, "HTTP probe failed with statuscode: 500"},
		{"same-host redirect followed", httpProbe(intstr.FromInt32(8080), "/same"), Failure, "HTTP probe failed with statuscode: 500"},
		{"other-host redirect not followed", httpProbe(intstr.FromInt32(8080), "/other"), Warning, "Probe terminated redirects"},
		{"unknown port name", httpProbe(intstr.FromString("nope"), "/ok"), Unknown, "couldn't find port: nope in app"},
		{"refused", httpProbe(intstr.FromInt32(9999), "/ok"), Failure, "connection refused"},
		{"timeout", httpProbe(intstr.FromInt32(8080), "/slow"), Failure, "deadline exceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := p.Probe(context.Background(), target(c), tc.probe)
			if o.Result != tc.result || !strings.Contains(o.Message, tc.msg) {
				t.Errorf("outcome = %v %q, want %v containing %q", o.Result, o.Message, tc.result, tc.msg)
			}
		})
	}

	t.Run("https without verification, headers", func(t *testing.T) {
		pr := httpProbe(intstr.FromInt32(8443), "/ok")
		pr.HTTPGet.Scheme = corev1.URISchemeHTTPS
		pr.HTTPGet.HTTPHeaders = []corev1.HTTPHeader{{Name: "Host", Value: "app.example"}, {Name: "X-Check", Value: "1"}}
		if o := p.Probe(context.Background(), target(c), pr); o.Result != Success {
			t.Fatalf("outcome = %v %q, want success", o.Result, o.Message)
		}
		if gotHost != "app.example" || gotUA != "kube-probe/1.37" || gotAccept != "*/*" || gotCustom != "1" {
			t.Errorf("request host %q user-agent %q accept %q x-check %q", gotHost, gotUA, gotAccept, gotCustom)
		}
	})
}

func TestTCPProbe(t *testing.T) {
	r := &routes{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()
	r.add(podIP+":5432", ln.Addr().String())
	p := NewProber(WithDialer(r.dial))
	c := &corev1.Container{Name: "db"}
	tcp := func(port int32) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(port)}}}
	}
	if o := p.Probe(context.Background(), target(c), tcp(5432)); o.Result != Success {
		t.Errorf("open port: %v %q", o.Result, o.Message)
	}
	if o := p.Probe(context.Background(), target(c), tcp(5433)); o.Result != Failure || !strings.Contains(o.Message, "connection refused") {
		t.Errorf("closed port: %v %q", o.Result, o.Message)
	}
	sim := NewProber(WithSimulatedNetwork(), WithDialer(func(context.Context, string, string) (net.Conn, error) {
		t.Error("a simulated network dialed")
		return nil, net.ErrClosed
	}))
	if o := sim.Probe(context.Background(), target(c), tcp(5433)); o.Result != Success {
		t.Errorf("simulated: %v %q", o.Result, o.Message)
	}
}

// execer answers ExecSync from a function.
type execer func(ctx context.Context, cmd []string) (runtime.ExecResult, error)

func (e execer) ExecSync(ctx context.Context, _ string, cmd []string, _ time.Duration) (runtime.ExecResult, error) {
	return e(ctx, cmd)
}

func TestExecProbe(t *testing.T) {
	p := NewProber(WithExecer(execer(func(ctx context.Context, cmd []string) (runtime.ExecResult, error) {
		switch cmd[0] {
		case "fail":
			return runtime.ExecResult{ExitCode: 1, Stdout: []byte("not yet\n")}, nil
		case "hang":
			<-ctx.Done()
			return runtime.ExecResult{}, ctx.Err()
		}
		return runtime.ExecResult{}, nil
	})))
	c := &corev1.Container{Name: "app"}
	exec := func(cmd ...string) *corev1.Probe {
		return &corev1.Probe{TimeoutSeconds: 1, ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: cmd}}}
	}
	for _, tc := range []struct {
		cmd    string
		result Result
		msg    string
	}{
		{"true", Success, ""},
		{"fail", Failure, "not yet\n"},
		{"hang", Failure, `command "hang" timed out`},
	} {
		if o := p.Probe(context.Background(), target(c), exec(tc.cmd)); o.Result != tc.result || o.Message != tc.msg {
			t.Errorf("%s: outcome %v %q, want %v %q", tc.cmd, o.Result, o.Message, tc.result, tc.msg)
		}
	}
	if o := NewProber().Probe(context.Background(), target(c), exec("true")); o.Result != Unknown {
		t.Errorf("without an execer: %v, want unknown", o.Result)
	}
}

func TestGRPCProbe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	hs.SetServingStatus("db", healthpb.HealthCheckResponse_NOT_SERVING)
	r := &routes{}
	r.add(podIP+":9000", ln.Addr().String())
	p := NewProber(WithDialer(r.dial))
	c := &corev1.Container{Name: "app"}
	probe := func(service string) *corev1.Probe {
		return &corev1.Probe{TimeoutSeconds: 1, ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 9000, Service: &service}}}
	}
	if o := p.Probe(context.Background(), target(c), probe("")); o.Result != Success {
		t.Errorf("serving: %v %q", o.Result, o.Message)
	}
	if o := p.Probe(context.Background(), target(c), probe("db")); o.Result != Failure || o.Message != `service unhealthy (responded with "NOT_SERVING")` {
		t.Errorf("not serving: %v %q", o.Result, o.Message)
	}
	pr := probe("")
	pr.GRPC.Port = 9001
	if o := p.Probe(context.Background(), target(c), pr); o.Result != Failure || !strings.Contains(o.Message, "failed to connect service") {
		t.Errorf("nothing listening: %v %q", o.Result, o.Message)
	}
}

func TestHooks(t *testing.T) {
	r := &routes{}
	serve(t, r, "8080", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/bad" {
			w.WriteHeader(503)
		}
	}), false)
	p := NewProber(WithDialer(r.dial), WithExecer(execer(func(ctx context.Context, cmd []string) (runtime.ExecResult, error) {
		if cmd[0] == "fail" {
			return runtime.ExecResult{ExitCode: 2, Stderr: []byte("boom")}, nil
		}
		return runtime.ExecResult{}, nil
	})))
	c := &corev1.Container{Name: "app"}
	ctx := context.Background()
	if err := p.RunHook(ctx, target(c), &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"ok"}}}); err != nil {
		t.Errorf("exec hook: %v", err)
	}
	err := p.RunHook(ctx, target(c), &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"fail"}}})
	if err == nil || !strings.HasPrefix(err.Error(), `Exec lifecycle hook ([fail]) for Container "app" in Pod "web_default(u1)" failed - error: command 'fail' exited with 2: boom, message: "boom"`) {
		t.Errorf("failing exec hook: %v", err)
	}
	if err := p.RunHook(ctx, target(c), &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(8080), Path: "/ok"}}); err != nil {
		t.Errorf("http hook: %v", err)
	}
	err = p.RunHook(ctx, target(c), &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(8080), Path: "/bad"}})
	if err == nil || !strings.Contains(err.Error(), `HTTP lifecycle hook (/bad) for Container "app" in Pod "web_default(u1)" failed - error: HTTP lifecycle hook failed with statuscode: 503`) {
		t.Errorf("failing http hook: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := p.RunHook(short, target(c), &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 30}}); err != nil {
		t.Errorf("sleep hook: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("sleep hook ran %s past its deadline", d)
	}
}
