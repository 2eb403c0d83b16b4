package integration

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tugcluster/tug/pkg/apiserver"
	"github.com/tugcluster/tug/pkg/storage/etcd"
)

const (
	adminToken     = "integration-admin-token"
	watchCacheSize = 200
)

// cluster is the API server every test in the package shares. Tests keep
// out of each other's way by using their own namespaces and names.
var cluster struct {
	server *apiserver.Server
	http   *httptest.Server
	etcd   *clientv3.Client
	config *rest.Config
	client *kubernetes.Clientset
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "tug-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: dir, FreePorts: true, Logger: zap.NewNop()})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start etcd:", err)
		return 1
	}
	defer e.Close()
	srv, err := apiserver.New(apiserver.Config{
		Etcd:                  e.Client(),
		Tokens:                map[string]apiserver.User{adminToken: {Name: "admin", Groups: []string{"system:masters"}}},
		WatchBookmarkInterval: time.Second,
		WatchCacheSize:        watchCacheSize,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "new apiserver:", err)
		return 1
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-done:
		fmt.Fprintln(os.Stderr, "apiserver:", err)
		return 1
	case <-time.After(30 * time.Second):
		fmt.Fprintln(os.Stderr, "apiserver not ready in 30s")
		return 1
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	cluster.server, cluster.http, cluster.etcd = srv, hs, e.Client()
	cluster.config = &rest.Config{Host: hs.URL, BearerToken: adminToken, QPS: 1000, Burst: 1000}
	cluster.client = kubernetes.NewForConfigOrDie(cluster.config)
	stopComponents, err := startComponents(ctx, cluster.config)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start components:", err)
		return 1
	}
	defer stopComponents()
	code := m.Run()
	cancel()
	<-done
	return code
}

// ctx returns a context bounded to a test.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// rawRequest sends an authenticated request and returns the answer.
func rawRequest(t *testing.T, method, path, contentType string, body []byte) (*http.Response, []byte) {
	t.Helper()
	return doRequest(t, method, path, contentType, body, map[string]string{"Authorization": "Bearer " + adminToken})
}
