package kubeconfig

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/tools/clientcmd"
)

func TestWriteProducesLoadableAdminConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "admin.kubeconfig")
	a := Admin{
		Server:  "https://127.0.0.1:6443",
		CAPEM:   []byte("-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n"),
		CertPEM: []byte("cert"),
		KeyPEM:  []byte("key"),
	}
	if err := Write(path, a); err != nil {
		t.Fatalf("Write: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}

	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatalf("load written kubeconfig: %v", err)
	}
	if cfg.CurrentContext != "tug" {
		t.Errorf("current-context = %q, want tug", cfg.CurrentContext)
	}
	ctx := cfg.Contexts["tug"]
	if ctx == nil {
		t.Fatal("no context tug")
	}
	cluster, user := cfg.Clusters[ctx.Cluster], cfg.AuthInfos[ctx.AuthInfo]
	if cluster == nil || user == nil {
		t.Fatalf("context tug points to cluster %q / user %q that do not exist", ctx.Cluster, ctx.AuthInfo)
	}
	got := Admin{
		Server:  cluster.Server,
		CAPEM:   cluster.CertificateAuthorityData,
		CertPEM: user.ClientCertificateData,
		KeyPEM:  user.ClientKeyData,
	}
	if diff := cmp.Diff(a, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestWriteReplacesPreviousFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "admin.kubeconfig")
	for _, server := range []string{"https://127.0.0.1:6443", "https://127.0.0.1:7443"} {
		if err := Write(path, Admin{Server: server}); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Clusters["tug"].Server; got != "https://127.0.0.1:7443" {
		t.Errorf("server = %q, want the last one written", got)
	}
}
