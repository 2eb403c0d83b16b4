package integration

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	utilexec "k8s.io/client-go/util/exec"

	"github.com/tugcluster/tug/pkg/agent"
	"github.com/tugcluster/tug/pkg/agent/runtime/fake"
	"github.com/tugcluster/tug/pkg/agent/server"
	"github.com/tugcluster/tug/pkg/agent/server/servertest"
	"github.com/tugcluster/tug/pkg/apiserver"
	"github.com/tugcluster/tug/pkg/cluster/pki"
)

// streamingAPI is an API server over the shared etcd that holds the
// kubelet client certificate, so it can proxy to node agents.
func streamingAPI(t *testing.T, bundle *pki.Bundle) (*rest.Config, *kubernetes.Clientset) {
	t.Helper()
	srv, err := apiserver.New(apiserver.Config{
		Etcd:              cluster.etcd,
		Tokens:            map[string]apiserver.User{adminToken: {Name: "admin", Groups: []string{"system:masters"}}},
		KubeletClientCert: &bundle.KubeletClient,
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("apiserver: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("apiserver not ready")
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		stop()
		<-done
	})
	cfg := &rest.Config{Host: hs.URL, BearerToken: adminToken, QPS: 1000, Burst: 1000}
	return cfg, kubernetes.NewForConfigOrDie(cfg)
}

// streamingNode runs an agent with the test runtime and the streaming
// server on a loopback port; port-forwards reach echo.
func streamingNode(t *testing.T, name string, bundle *pki.Bundle, echo net.Listener) *servertest.Runtime {
	t.Helper()
	f, err := fake.New(fake.Options{PodCIDR: netip.MustParsePrefix("10.42.99.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	rt := &servertest.Runtime{Runtime: f, LogDir: t.TempDir()}
	srv, err := server.New(server.Config{
		DataDir: t.TempDir(), NodeName: name, ClientCA: bundle.CAPool, Runtime: rt,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, echo.Addr().String())
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(cluster.client, rt, agent.Options{
		NodeName:    name,
		Addresses:   []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}},
		KubeletPort: int32(ln.Addr().(*net.TCPAddr).Port),
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	serverDone, agentDone := make(chan error, 1), make(chan error, 1)
	go func() { serverDone <- srv.Serve(runCtx, ln) }()
	go func() { agentDone <- a.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		for _, ch := range []chan error{serverDone, agentDone} {
			if err := <-ch; err != nil {
				t.Errorf("node %s: %v", name, err)
			}
		}
		_ = cluster.client.CoreV1().Nodes().Delete(context.Background(), name, metav1.DeleteOptions{})
		_ = cluster.client.CoordinationV1().Leases(agent.LeaseNamespace).Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	return rt
}

func echoListener(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln
}

func TestStreamingThroughTheAPIServer(t *testing.T) {
	bundle, err := pki.Ensure(pki.Options{Dir: filepath.Join(t.TempDir(), "pki"), Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	config, client := streamingAPI(t, bundle)
	rt := streamingNode(t, "stream-node", bundle, echoListener(t))
	c := ctx(t)
	ns := newNamespace(t)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec:       corev1.PodSpec{NodeName: "stream-node", Containers: []corev1.Container{{Name: "app", Image: "nginx:1"}}},
	}
	if _, err := client.CoreV1().Pods(ns).Create(c, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var containerID string
	pollAgentTest(t, c, "pod web running", func() (bool, error) {
		p, err := client.CoreV1().Pods(ns).Get(c, "web", metav1.GetOptions{})
		if err != nil || p.Status.Phase != corev1.PodRunning || len(p.Status.ContainerStatuses) != 1 {
			return false, err
		}
		_, containerID, _ = strings.Cut(p.Status.ContainerStatuses[0].ContainerID, "://")
		return containerID != "", nil
	})
	now := time.Now()
	if err := rt.AppendLog(containerID,
		servertest.Record(now, "stdout", false, "started"),
		servertest.Record(now, "stderr", true, "long "),
		servertest.Record(now, "stderr", false, "line")); err != nil {
		t.Fatal(err)
	}

	t.Run("logs", func(t *testing.T) {
		got, err := client.CoreV1().Pods(ns).GetLogs("web", &corev1.PodLogOptions{}).DoRaw(c)
		if err != nil || string(got) != "started\nlong line\n" {
			t.Errorf("logs = %q, %v", got, err)
		}
		_, err = client.CoreV1().Pods(ns).GetLogs("web", &corev1.PodLogOptions{Container: "nope"}).Stream(c)
		if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "container nope is not valid for pod web") {
			t.Errorf("unknown container: %v", err)
		}
	})

	t.Run("follow", func(t *testing.T) {
		fctx, cancel := context.WithTimeout(c, 10*time.Second)
		defer cancel()
		stream, err := client.CoreV1().Pods(ns).GetLogs("web", &corev1.PodLogOptions{Follow: true, TailLines: ptr(int64(1))}).Stream(fctx)
		if err != nil {
			t.Fatal(err)
		}
		defer stream.Close()
		r := bufio.NewReader(stream)
		if line, err := r.ReadString('\n'); err != nil || line != "long line\n" {
			t.Fatalf("first line %q, %v", line, err)
		}
		if err := rt.AppendLog(containerID, servertest.Record(time.Now(), "stdout", false, "later")); err != nil {
			t.Fatal(err)
		}
		if line, err := r.ReadString('\n'); err != nil || line != "later\n" {
			t.Fatalf("followed line %q, %v", line, err)
		}
	})

	execURL := func(cmd []string, stdin bool) *rest.Request {
		return client.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name("web").SubResource("exec").
			VersionedParams(&corev1.PodExecOptions{Command: cmd, Stdin: stdin, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	}
	executors := map[string]func(cmd []string, stdin bool) (remotecommand.Executor, error){
		"exec over spdy": func(cmd []string, stdin bool) (remotecommand.Executor, error) {
			return remotecommand.NewSPDYExecutor(config, "POST", execURL(cmd, stdin).URL())
		},
		"exec over websocket": func(cmd []string, stdin bool) (remotecommand.Executor, error) {
			return remotecommand.NewWebSocketExecutor(config, "GET", execURL(cmd, stdin).URL().String())
		},
	}
	for name, newExec := range executors {
		t.Run(name, func(t *testing.T) {
			ex, err := newExec([]string{"cat"}, true)
			if err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			err = ex.StreamWithContext(c, remotecommand.StreamOptions{Stdin: strings.NewReader("through the API server\n"), Stdout: &out, Stderr: &errOut})
			if err != nil || out.String() != "through the API server\n" {
				t.Errorf("cat: %q, %v", out.String(), err)
			}
			ex, err = newExec([]string{"fail", "7"}, false)
			if err != nil {
				t.Fatal(err)
			}
			err = ex.StreamWithContext(c, remotecommand.StreamOptions{Stdout: &out, Stderr: &errOut})
			var exit utilexec.ExitError
			if !errors.As(err, &exit) || exit.ExitStatus() != 7 {
				t.Errorf("fail 7: %v, want exit code 7", err)
			}
		})
	}

	pfURL := client.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name("web").SubResource("portforward").URL()
	dialers := map[string]func() (httpstream.Dialer, error){
		"port-forward over spdy": func() (httpstream.Dialer, error) {
			tr, upgrader, err := spdy.RoundTripperFor(config)
			if err != nil {
				return nil, err
			}
			return spdy.NewDialer(upgrader, &http.Client{Transport: tr}, "POST", pfURL), nil
		},
		"port-forward over websocket": func() (httpstream.Dialer, error) {
			return portforward.NewSPDYOverWebsocketDialer(pfURL, config)
		},
	}
	for name, newDialer := range dialers {
		t.Run(name, func(t *testing.T) {
			d, err := newDialer()
			if err != nil {
				t.Fatal(err)
			}
			stop, ready := make(chan struct{}), make(chan struct{})
			defer close(stop)
			fw, err := portforward.New(d, []string{"0:8080"}, stop, ready, io.Discard, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			errs := make(chan error, 1)
			go func() { errs <- fw.ForwardPorts() }()
			select {
			case <-ready:
			case err := <-errs:
				t.Fatalf("forward: %v", err)
			case <-time.After(10 * time.Second):
				t.Fatal("port-forward not ready")
			}
			ports, err := fw.GetPorts()
			if err != nil {
				t.Fatal(err)
			}
			conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", ports[0].Local), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.WriteString(conn, "ping\n"); err != nil {
				t.Fatal(err)
			}
			if got, err := bufio.NewReader(conn).ReadString('\n'); err != nil || got != "ping\n" {
				t.Errorf("echo: %q, %v", got, err)
			}
		})
	}
}

func TestStreamingErrors(t *testing.T) {
	bundle, err := pki.Ensure(pki.Options{Dir: filepath.Join(t.TempDir(), "pki"), Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	_, client := streamingAPI(t, bundle)
	c := ctx(t)
	ns := newNamespace(t)
	unbound := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "pending", Namespace: ns},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1"}},
			// An unsatisfiable selector keeps the scheduler away.
			NodeSelector: map[string]string{"streaming-test": "nowhere"}},
	}
	if _, err := client.CoreV1().Pods(ns).Create(c, unbound, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Stream, as kubectl logs uses, decodes the error Status.
	_, err = client.CoreV1().Pods(ns).GetLogs("pending", &corev1.PodLogOptions{}).Stream(c)
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "does not have a host assigned") {
		t.Errorf("pod without a node: %v", err)
	}

	// A node whose agent is gone: its port refuses connections.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := int32(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "stream-gone"}, Status: corev1.NodeStatus{
		Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: port}},
	}}
	if _, err := client.CoreV1().Nodes().Create(c, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cluster.client.CoreV1().Nodes().Delete(context.Background(), "stream-gone", metav1.DeleteOptions{})
	})
	bound := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "orphan", Namespace: ns},
		Spec:       corev1.PodSpec{NodeName: "stream-gone", Containers: []corev1.Container{{Name: "app", Image: "nginx:1"}}},
	}
	if _, err := client.CoreV1().Pods(ns).Create(c, bound, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = client.CoreV1().Pods(ns).GetLogs("orphan", &corev1.PodLogOptions{}).Stream(c)
	if !apierrors.IsServiceUnavailable(err) || !strings.Contains(err.Error(), `node "stream-gone" is unreachable`) {
		t.Errorf("unreachable node: %v", err)
	}
}
