package cluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tugcluster/tug/internal/version"
	"github.com/tugcluster/tug/pkg/cluster/pki"
)

func testOptions(t *testing.T, dataDir string) Options {
	return Options{
		DataDir: dataDir,
		Listen:  "127.0.0.1:0",
		Logger:  slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
}

// start runs a cluster and returns it once ready, with a function that
// stops it and checks that Run returned nil. The stop also runs at cleanup.
func start(t *testing.T, opts Options) (*Cluster, func()) {
	t.Helper()
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run after stop: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Run did not return within 30s of cancel")
		}
	}
	t.Cleanup(stop)
	select {
	case <-c.Ready():
	case err := <-done:
		stopped = true
		t.Fatalf("Run ended before ready: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("cluster not ready within 60s")
	}
	return c, stop
}

func clientset(t *testing.T, c *Cluster) *kubernetes.Clientset {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", c.KubeconfigPath())
	if err != nil {
		t.Fatalf("load admin kubeconfig: %v", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestClusterServesAdminAndTokenAndKeepsStateAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()

	c, stop := start(t, testOptions(t, dir))
	if !strings.HasPrefix(c.URL(), "https://127.0.0.1:") {
		t.Errorf("URL = %q, want https://127.0.0.1:<port>", c.URL())
	}
	cs := clientset(t, c)
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		t.Fatalf("server version with admin kubeconfig: %v", err)
	}
	if v.GitVersion != version.ServerGitVersion() {
		t.Errorf("gitVersion = %q, want %q", v.GitVersion, version.ServerGitVersion())
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "survives-restart"},
		Data:       map[string]string{"k": "v"},
	}
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create configmap: %v", err)
	}

	tok := readFile(t, c.TokenPath())
	caPEM := readFile(t, filepath.Join(dir, PKIDir, pki.CACertFile))
	if code := getStatus(t, c.URL()+"/version", caPEM, strings.TrimSpace(string(tok))); code != http.StatusOK {
		t.Errorf("GET /version with the join token: status %d, want 200", code)
	}
	if code := getStatus(t, c.URL()+"/version", caPEM, "not-the-token"); code != http.StatusUnauthorized {
		t.Errorf("GET /version with a wrong token: status %d, want 401", code)
	}
	if code := getStatus(t, c.URL()+"/api/v1/namespaces", caPEM, ""); code != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/namespaces without credentials: status %d, want 401", code)
	}
	if code := getStatus(t, c.URL()+"/readyz", caPEM, ""); code != http.StatusOK {
		t.Errorf("GET /readyz: status %d, want 200", code)
	}
	if code := getStatus(t, c.URL()+"/debug/pprof/cmdline", caPEM, strings.TrimSpace(string(tok))); code != http.StatusNotFound {
		t.Errorf("GET /debug/pprof/cmdline without --profiling: status %d, want 404", code)
	}
	stop()

	// A second start on the same data directory keeps CA, token and data.
	c2, _ := start(t, testOptions(t, dir))
	if !bytes.Equal(tok, readFile(t, c2.TokenPath())) {
		t.Error("join token changed across restarts")
	}
	if !bytes.Equal(caPEM, readFile(t, filepath.Join(dir, PKIDir, pki.CACertFile))) {
		t.Error("CA changed across restarts")
	}
	got, err := clientset(t, c2).CoreV1().ConfigMaps("default").Get(ctx, "survives-restart", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("configmap after restart: %v", err)
	}
	if got.Data["k"] != "v" {
		t.Errorf("configmap data after restart = %v", got.Data)
	}
}

func TestRunFailsClearlyWhenEtcdPortIsTaken(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port

	opts := testOptions(t, t.TempDir())
	opts.EtcdClientPort = port
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = c.Run(ctx)
	if err == nil {
		t.Fatal("Run succeeded with the etcd client port taken")
	}
	for _, want := range []string{"127.0.0.1:" + strconv.Itoa(port), "already in use", "--etcd-client-port"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	select {
	case <-c.Ready():
		t.Error("Ready closed although Run failed")
	default:
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		mutate func(*Options)
		want   string
	}{
		"no data dir":        {func(o *Options) { o.DataDir = "" }, "data directory"},
		"bad listen":         {func(o *Options) { o.Listen = "6443" }, "listen address"},
		"bad advertise":      {func(o *Options) { o.AdvertiseAddress = "example.com" }, "advertise address"},
		"loopback advertise": {func(o *Options) { o.AdvertiseAddress = "127.0.0.1" }, "cannot be reached"},
		"http issuer":        {func(o *Options) { o.ServiceAccountIssuers = []string{"http://tug.example.com"} }, "want an https URL"},
		"issuer not a URL":   {func(o *Options) { o.ServiceAccountIssuers = []string{"tug"} }, "service account issuer \"tug\""},
		"overlapping cidrs":  {func(o *Options) { o.PodCIDR = DefaultServiceCIDR }, "overlaps"},
		"inverted portrange": {func(o *Options) { o.NodePortRange = PortRange{Min: 32000, Max: 31000} }, "node port range"},
		"same etcd ports":    {func(o *Options) { o.EtcdClientPort, o.EtcdPeerPort = 2379, 2379 }, "both 2379"},
		"tls without etcd":   {func(o *Options) { o.EtcdCAFile = "/ca.crt" }, "without etcd endpoints"},
		"cert without key": {func(o *Options) {
			o.EtcdEndpoints = []string{"https://127.0.0.1:2379"}
			o.EtcdCertFile = "/c.crt"
		}, "together"},
	} {
		t.Run(name, func(t *testing.T) {
			opts := testOptions(t, dir)
			tc.mutate(&opts)
			_, err := New(opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New error = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestParsePortRange(t *testing.T) {
	r, err := ParsePortRange("30000-32767")
	if err != nil || r != (PortRange{Min: 30000, Max: 32767}) {
		t.Errorf("ParsePortRange = %v, %v", r, err)
	}
	for _, bad := range []string{"30000", "a-b", "0-10", "5-4", "1-70000"} {
		if _, err := ParsePortRange(bad); err == nil {
			t.Errorf("ParsePortRange(%q) succeeded", bad)
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func getStatus(t *testing.T, url string, caPEM []byte, bearer string) int {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("no CA certificate")
	}
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
	defer client.CloseIdleConnections()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// With --advertise-address the default/kubernetes Service gets Endpoints
// and an EndpointSlice pointing at that address and the secure port; a
// restart with another address moves them.
func TestKubernetesServiceEndpointsFollowTheAdvertiseAddress(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	for _, addr := range []string{"192.0.2.10", "192.0.2.20"} { // documentation addresses: only published
		opts := testOptions(t, dir)
		opts.AdvertiseAddress = addr
		c, stop := start(t, opts)
		cs := clientset(t, c)
		port := c.URL()[strings.LastIndex(c.URL(), ":")+1:]
		ep, err := cs.CoreV1().Endpoints("default").Get(ctx, "kubernetes", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("%s: endpoints: %v", addr, err)
		}
		if len(ep.Subsets) != 1 || len(ep.Subsets[0].Addresses) != 1 || ep.Subsets[0].Addresses[0].IP != addr ||
			fmt.Sprint(ep.Subsets[0].Ports[0].Port) != port {
			t.Errorf("%s: endpoints %+v, want %s:%s", addr, ep.Subsets, addr, port)
		}
		slice, err := cs.DiscoveryV1().EndpointSlices("default").Get(ctx, "kubernetes", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("%s: endpointslice: %v", addr, err)
		}
		if len(slice.Endpoints) != 1 || slice.Endpoints[0].Addresses[0] != addr || fmt.Sprint(*slice.Ports[0].Port) != port ||
			slice.Labels["kubernetes.io/service-name"] != "kubernetes" {
			t.Errorf("%s: endpointslice %+v %+v, want %s:%s", addr, slice.Endpoints, slice.Ports, addr, port)
		}
		stop()
	}
}

// --profiling serves Go's profiles, to authenticated clients only.
func TestProfilingServesProfilesToAuthenticatedClients(t *testing.T) {
	opts := testOptions(t, t.TempDir())
	opts.Profiling = true
	c, _ := start(t, opts)
	caPEM := readFile(t, filepath.Join(opts.DataDir, PKIDir, pki.CACertFile))
	tok := strings.TrimSpace(string(readFile(t, c.TokenPath())))
	if code := getStatus(t, c.URL()+"/debug/pprof/cmdline", caPEM, tok); code != http.StatusOK {
		t.Errorf("GET /debug/pprof/cmdline with a token: status %d, want 200", code)
	}
	if code := getStatus(t, c.URL()+"/debug/pprof/cmdline", caPEM, ""); code != http.StatusUnauthorized {
		t.Errorf("GET /debug/pprof/cmdline without credentials: status %d, want 401", code)
	}
}
