package apibench

import (
	"context"
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tugcluster/tug/bench/internal/benchclient"
	"github.com/tugcluster/tug/pkg/apiserver"
	"github.com/tugcluster/tug/pkg/storage/etcd"
)

const benchToken = "apibench-admin-token"

// server is started once, by the first benchmark that needs it.
var server struct {
	once sync.Once
	err  error
	host string
	ca   []byte
	stop func()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if server.stop != nil {
		server.stop()
	}
	os.Exit(code)
}

// startServer returns a rest.Config template for the shared server,
// starting it on first use.
func startServer(b *testing.B) {
	b.Helper()
	server.once.Do(func() { server.err = start() })
	if server.err != nil {
		b.Fatal(server.err)
	}
}

func start() error {
	dir, err := os.MkdirTemp("", "tug-apibench-")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	stops := []func(){func() { os.RemoveAll(dir) }, cancel}
	stopAll := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	e, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: dir, FreePorts: true, Logger: zap.NewNop()})
	if err != nil {
		stopAll()
		return fmt.Errorf("start etcd: %w", err)
	}
	stops = append(stops, func() { e.Close() })
	srv, err := apiserver.New(apiserver.Config{
		Etcd:   e.Client(),
		Tokens: map[string]apiserver.User{benchToken: {Name: "admin", Groups: []string{"system:masters"}}},
	})
	if err != nil {
		stopAll()
		return fmt.Errorf("new apiserver: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	stops = append(stops, func() { cancel(); <-done })
	select {
	case <-srv.Ready():
	case err := <-done:
		done <- err
		stopAll()
		return fmt.Errorf("apiserver: %w", err)
	case <-time.After(30 * time.Second):
		stopAll()
		return fmt.Errorf("apiserver not ready in 30s")
	}
	hs := httptest.NewUnstartedServer(srv.Handler())
	hs.EnableHTTP2 = true
	hs.StartTLS()
	stops = append(stops, hs.Close)
	server.host = hs.URL
	server.ca = hs.Certificate().Raw
	server.stop = stopAll
	return nil
}

// pool holds the clients benchmarks share, so that repeated runs of a
// benchmark (growing b.N) do not open new connections each time.
var pool []*kubernetes.Clientset

// clients returns n independent clients, each with its own connection.
func clients(b *testing.B, n int) []*kubernetes.Clientset {
	b.Helper()
	startServer(b)
	base := &rest.Config{
		Host:            server.host,
		BearerToken:     benchToken,
		TLSClientConfig: rest.TLSClientConfig{CAData: pemCert(server.ca)},
		Timeout:         30 * time.Second,
	}
	for len(pool) < n {
		cs, err := benchclient.New(context.Background(), base)
		if err != nil {
			b.Fatal(err)
		}
		pool = append(pool, cs)
	}
	return pool[:n]
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// ensureNamespace creates ns unless it exists.
func ensureNamespace(b *testing.B, cs *kubernetes.Clientset, ns string) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err == nil {
		return
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		b.Fatalf("create namespace %s: %v", ns, err)
	}
}
