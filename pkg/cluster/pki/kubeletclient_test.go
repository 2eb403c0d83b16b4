package pki

import (
	"crypto/x509"
	"path/filepath"
	"testing"
)

func TestKubeletClientCertificate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	b, err := Ensure(Options{Dir: dir, Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	leaf := b.KubeletClient.Leaf
	if leaf == nil || leaf.Subject.CommonName != KubeletClientUser {
		t.Fatalf("kubelet client certificate CN = %v, want %s", leaf, KubeletClientUser)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: b.CAPool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("not a client certificate of the cluster CA: %v", err)
	}
	again, err := Ensure(Options{Dir: dir, Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !again.KubeletClient.Leaf.Equal(leaf) {
		t.Error("the certificate was reissued on a second start")
	}
}
