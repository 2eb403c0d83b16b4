package server_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"

	"github.com/tugcluster/tug/pkg/agent/runtime"
	"github.com/tugcluster/tug/pkg/agent/runtime/fake"
	"github.com/tugcluster/tug/pkg/agent/server"
	"github.com/tugcluster/tug/pkg/agent/server/servertest"
	"github.com/tugcluster/tug/pkg/cluster/pki"
)

// env is one agent server on a loopback port with the test runtime.
type env struct {
	rt     *servertest.Runtime
	base   string // https://127.0.0.1:port
	pki    *pki.Bundle
	config *rest.Config // authenticates as tug:apiserver
	dialed chan string  // addresses port-forward dialed
	echo   net.Listener // what port-forward reaches
}

func start(t *testing.T) *env {
	t.Helper()
	bundle, err := pki.Ensure(pki.Options{Dir: filepath.Join(t.TempDir(), "pki"), Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := fake.New(fake.Options{PodCIDR: netip.MustParsePrefix("10.42.7.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{rt: &servertest.Runtime{Runtime: f, LogDir: t.TempDir()}, pki: bundle, dialed: make(chan string, 16)}
	e.echo = startEcho(t)
	srv, err := server.New(server.Config{
		DataDir:  t.TempDir(),
		NodeName: "node-a",
		ClientCA: bundle.CAPool,
		Runtime:  e.rt,
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			e.dialed <- addr
			var d net.Dialer
			return d.DialContext(ctx, network, e.echo.Addr().String())
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	e.base = "https://" + ln.Addr().String()
	cert := bundle.KubeletClient
	e.config = &rest.Config{Host: e.base, TLSClientConfig: rest.TLSClientConfig{Insecure: true,
		CertData: pemCert(cert), KeyData: pemKey(t, cert)}}
	return e
}

// startEcho is a TCP server that echoes what it reads, standing in for
// a pod's port.
func startEcho(t *testing.T) net.Listener {
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

// runPod starts a sandbox with running containers and returns their IDs
// by name.
func (e *env) runPod(t *testing.T, ns, name string, containers ...string) map[string]string {
	t.Helper()
	ctx := context.Background()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(name + "-uid")}}
	for _, c := range containers {
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: c, Image: "busybox"})
	}
	sb, err := e.rt.RunPodSandbox(ctx, pod)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for i := range pod.Spec.Containers {
		id := e.startContainer(t, sb.ID, pod, i, 0)
		ids[pod.Spec.Containers[i].Name] = id
	}
	return ids
}

func (e *env) startContainer(t *testing.T, sandboxID string, pod *corev1.Pod, i, attempt int) string {
	t.Helper()
	ctx := context.Background()
	id, err := e.rt.CreateContainer(ctx, sandboxID, runtime.ContainerConfig{Pod: pod, Container: &pod.Spec.Containers[i], Attempt: attempt})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.rt.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	return id
}

// get sends a GET with the given client certificate (nil: none).
func (e *env) get(t *testing.T, path string, cert *tls.Certificate) (int, string) {
	t.Helper()
	tc := &tls.Config{InsecureSkipVerify: true}
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}, Timeout: 10 * time.Second}
	resp, err := c.Get(e.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestOnlyTheAPIServerIsServed(t *testing.T) {
	e := start(t)
	admin, err := tls.X509KeyPair(e.pki.AdminCertPEM, e.pki.AdminKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := e.get(t, "/healthz", nil); code != http.StatusUnauthorized {
		t.Errorf("without a certificate: %d, want 401", code)
	}
	if code, body := e.get(t, "/healthz", &admin); code != http.StatusForbidden {
		t.Errorf("as admin: %d %s, want 403", code, body)
	}
	if code, body := e.get(t, "/healthz", &e.pki.KubeletClient); code != http.StatusOK || body != "ok" {
		t.Errorf("as the API server: %d %q, want 200 ok", code, body)
	}
}

func TestStatsSummary(t *testing.T) {
	e := start(t)
	e.runPod(t, "ns1", "web", "app", "sidecar")
	code, body := e.get(t, "/stats/summary", &e.pki.KubeletClient)
	if code != http.StatusOK {
		t.Fatalf("summary: %d %s", code, body)
	}
	var sum statsapi.Summary
	if err := json.Unmarshal([]byte(body), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Node.NodeName != "node-a" || len(sum.Pods) != 1 {
		t.Fatalf("summary = %s", body)
	}
	p := sum.Pods[0]
	if p.PodRef.Namespace != "ns1" || p.PodRef.Name != "web" || len(p.Containers) != 2 {
		t.Fatalf("pod stats = %+v", p)
	}
	if p.CPU == nil || *p.CPU.UsageNanoCores != 2*servertest.CPUNanoCores ||
		*p.Memory.WorkingSetBytes != 2*servertest.MemoryBytes || *sum.Node.Memory.WorkingSetBytes != 2*servertest.MemoryBytes {
		t.Errorf("usage not summed: %s", body)
	}
}
