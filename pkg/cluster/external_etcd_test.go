package cluster

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/pkg/cluster/pki"
)

// startTLSEtcd runs an etcd member that serves clients only over TLS with
// client certificates, as an external etcd cluster is usually set up, and
// returns its client URL and the directory of its CA and of a client
// certificate it accepts (pki file names).
func startTLSEtcd(t *testing.T) (endpoint, certDir string) {
	t.Helper()
	certDir = t.TempDir()
	if _, err := pki.Ensure(pki.Options{Dir: certDir, Hosts: []string{"127.0.0.1", "localhost"}}); err != nil {
		t.Fatal(err)
	}
	ports := make([]int, 2)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	cfg := embed.NewConfig()
	cfg.Dir = t.TempDir()
	cfg.LogLevel = "error"
	client, _ := url.Parse(fmt.Sprintf("https://127.0.0.1:%d", ports[0]))
	peer, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", ports[1]))
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*client}, []url.URL{*client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*peer}, []url.URL{*peer}
	cfg.InitialCluster = cfg.Name + "=" + peer.String()
	cfg.ClientTLSInfo.CertFile = filepath.Join(certDir, pki.ServerCertFile)
	cfg.ClientTLSInfo.KeyFile = filepath.Join(certDir, pki.ServerKeyFile)
	cfg.ClientTLSInfo.TrustedCAFile = filepath.Join(certDir, pki.CACertFile)
	cfg.ClientTLSInfo.ClientCertAuth = true
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		t.Fatal("etcd not ready in 30 s")
	}
	return client.String(), certDir
}

// A server on an external etcd that needs TLS client certificates serves
// and stores with --etcd-cafile/--etcd-certfile/--etcd-keyfile; without the
// client certificate it refuses to start with an error naming the etcd.
func TestExternalEtcdWithTLS(t *testing.T) {
	endpoint, certDir := startTLSEtcd(t)
	opts := testOptions(t, t.TempDir())
	opts.EtcdEndpoints = []string{endpoint}
	opts.EtcdCAFile = filepath.Join(certDir, pki.CACertFile)
	opts.EtcdCertFile = filepath.Join(certDir, pki.AdminCertFile)
	opts.EtcdKeyFile = filepath.Join(certDir, pki.AdminKeyFile)
	c, stop := start(t, opts)
	cs := clientset(t, c)
	ctx := context.Background()
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "on-external-etcd"}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create on external etcd: %v", err)
	}
	if _, err := cs.CoreV1().ConfigMaps("default").Get(ctx, "on-external-etcd", metav1.GetOptions{}); err != nil {
		t.Fatalf("read back: %v", err)
	}
	stop()

	noCert := testOptions(t, t.TempDir())
	noCert.EtcdEndpoints = []string{endpoint}
	noCert.EtcdCAFile = opts.EtcdCAFile
	nc, err := New(noCert)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err = nc.Run(runCtx)
	if err == nil || !strings.Contains(err.Error(), endpoint) {
		t.Errorf("start without a client certificate: %v, want an error naming %s", err, endpoint)
	}
}
