package pki

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func ensure(t *testing.T, dir string, hosts []string, now time.Time) *Bundle {
	t.Helper()
	b, err := Ensure(Options{Dir: dir, Hosts: hosts, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	return b
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func parseCertFile(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(readFile(t, path))
	if block == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEnsureCreatesFilesWithModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	ensure(t, dir, []string{"localhost", "127.0.0.1"}, time.Now())

	want := map[string]os.FileMode{
		CACertFile: 0o644, CAKeyFile: 0o600,
		ServerCertFile: 0o644, ServerKeyFile: 0o600,
		AdminCertFile: 0o644, AdminKeyFile: 0o600,
		KubeletClientCertFile: 0o644, KubeletClientKeyFile: 0o600,
		ServiceAccountKeyFile: 0o600,
	}
	got := map[string]os.FileMode{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		got[e.Name()] = fi.Mode().Perm()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files and modes (-want +got):\n%s", diff)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode = %v, want 0700", fi.Mode().Perm())
	}
}

func TestEnsureReusesExistingCertificates(t *testing.T) {
	dir := t.TempDir()
	hosts := []string{"localhost", "127.0.0.1"}
	now := time.Now()
	first := ensure(t, dir, hosts, now)
	before := map[string][]byte{}
	for _, f := range []string{CACertFile, CAKeyFile, ServerCertFile, ServerKeyFile, AdminCertFile, AdminKeyFile} {
		before[f] = readFile(t, filepath.Join(dir, f))
	}

	second := ensure(t, dir, hosts, now.Add(24*time.Hour))
	for f, data := range before {
		if !bytes.Equal(data, readFile(t, filepath.Join(dir, f))) {
			t.Errorf("%s changed on a second start", f)
		}
	}
	if !bytes.Equal(first.CACertPEM, second.CACertPEM) || !bytes.Equal(first.AdminCertPEM, second.AdminCertPEM) {
		t.Error("bundle differs on a second start")
	}
}

func TestEnsureReissuesServingCertForNewHosts(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	ensure(t, dir, []string{"localhost", "127.0.0.1"}, now)
	caBefore := readFile(t, filepath.Join(dir, CACertFile))
	adminBefore := readFile(t, filepath.Join(dir, AdminCertFile))

	b := ensure(t, dir, []string{"localhost", "127.0.0.1", "tug.example.com", "192.0.2.10"}, now)
	if !bytes.Equal(caBefore, readFile(t, filepath.Join(dir, CACertFile))) {
		t.Error("CA changed when only the serving hosts changed")
	}
	if !bytes.Equal(adminBefore, readFile(t, filepath.Join(dir, AdminCertFile))) {
		t.Error("admin certificate changed when only the serving hosts changed")
	}
	leaf := b.Serving.Leaf
	if err := leaf.VerifyHostname("tug.example.com"); err != nil {
		t.Errorf("new serving certificate: %v", err)
	}
	if err := leaf.VerifyHostname("192.0.2.10"); err != nil {
		t.Errorf("new serving certificate: %v", err)
	}
	if diff := cmp.Diff(leaf.Raw, parseCertFile(t, filepath.Join(dir, ServerCertFile)).Raw); diff != "" {
		t.Error("bundle's serving certificate is not the one on disk")
	}
}

func TestEnsureRenewsLeavesNearExpiry(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	first := ensure(t, dir, []string{"localhost"}, now)

	later := now.Add(LeafValidity - RenewBefore + time.Hour)
	second := ensure(t, dir, []string{"localhost"}, later)
	if bytes.Equal(first.Serving.Leaf.Raw, second.Serving.Leaf.Raw) {
		t.Error("serving certificate not renewed within the renewal window")
	}
	if bytes.Equal(first.AdminCertPEM, second.AdminCertPEM) {
		t.Error("admin certificate not renewed within the renewal window")
	}
	if !bytes.Equal(first.CACertPEM, second.CACertPEM) {
		t.Error("CA replaced although it is still valid")
	}
	if !second.Serving.Leaf.NotAfter.After(later.Add(RenewBefore)) {
		t.Errorf("renewed certificate expires %v, too soon", second.Serving.Leaf.NotAfter)
	}
}

func TestEnsureReissuesLeavesForNewCA(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	first := ensure(t, dir, []string{"localhost"}, now)
	for _, f := range []string{CACertFile, CAKeyFile} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	second := ensure(t, dir, []string{"localhost"}, now)
	if bytes.Equal(first.CACertPEM, second.CACertPEM) {
		t.Fatal("CA not recreated")
	}
	if _, err := second.Serving.Leaf.Verify(x509.VerifyOptions{Roots: second.CAPool, DNSName: "localhost"}); err != nil {
		t.Errorf("serving certificate does not chain to the new CA: %v", err)
	}
}

func TestEnsureRefusesHalfAMissingCA(t *testing.T) {
	dir := t.TempDir()
	ensure(t, dir, []string{"localhost"}, time.Now())
	if err := os.Remove(filepath.Join(dir, CAKeyFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := Ensure(Options{Dir: dir, Hosts: []string{"localhost"}}); err == nil {
		t.Fatal("Ensure replaced a CA whose key went missing")
	}
}

func TestServingAndAdminCertificates(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	b := ensure(t, dir, []string{"localhost", "127.0.0.1", "::1", "kubernetes.default.svc", "10.43.0.1"}, now)

	if !b.CA.IsCA || b.CA.NotAfter.Before(now.Add(CAValidity-24*time.Hour)) {
		t.Errorf("CA: IsCA=%v NotAfter=%v, want a CA valid for about ten years", b.CA.IsCA, b.CA.NotAfter)
	}
	leaf := b.Serving.Leaf
	gotIPs := []string{}
	for _, ip := range leaf.IPAddresses {
		gotIPs = append(gotIPs, ip.String())
	}
	sort.Strings(gotIPs)
	if diff := cmp.Diff([]string{"10.43.0.1", "127.0.0.1", "::1"}, gotIPs); diff != "" {
		t.Errorf("serving IP SANs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"localhost", "kubernetes.default.svc"}, leaf.DNSNames); diff != "" {
		t.Errorf("serving DNS SANs (-want +got):\n%s", diff)
	}

	admin, err := tls.X509KeyPair(b.AdminCertPEM, b.AdminKeyPEM)
	if err != nil {
		t.Fatalf("admin key pair: %v", err)
	}
	adminCert, err := x509.ParseCertificate(admin.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if adminCert.Subject.CommonName != "admin" || cmp.Diff([]string{"system:masters"}, adminCert.Subject.Organization) != "" {
		t.Errorf("admin subject = %v, want CN=admin O=system:masters", adminCert.Subject)
	}
	if _, err := adminCert.Verify(x509.VerifyOptions{
		Roots:     b.CAPool,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}); err != nil {
		t.Errorf("admin certificate is not a client certificate of the CA: %v", err)
	}
}

func TestServingHosts(t *testing.T) {
	hosts, err := ServingHosts(netip.MustParsePrefix("10.43.0.0/16"), "tug.example.com", "192.0.2.7")
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	for _, h := range hosts {
		set[h] = true
	}
	want := []string{"localhost", "127.0.0.1", "::1", "kubernetes", "kubernetes.default",
		"kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "10.43.0.1",
		"tug.example.com", "192.0.2.7"}
	if name, err := os.Hostname(); err == nil {
		want = append(want, name)
	}
	for _, w := range want {
		if !set[w] {
			t.Errorf("ServingHosts lacks %q (got %v)", w, hosts)
		}
	}
	for _, h := range hosts {
		if a, err := netip.ParseAddr(h); err == nil && a.IsLoopback() && h != "127.0.0.1" && h != "::1" {
			t.Errorf("ServingHosts lists interface loopback address %s", h)
		}
	}
}

func TestFirstServiceIP(t *testing.T) {
	for _, tc := range []struct{ cidr, want string }{
		{"10.43.0.0/16", "10.43.0.1"},
		{"10.96.5.7/12", "10.96.0.1"},
		{"fd00:43::/112", "fd00:43::1"},
	} {
		got, err := FirstServiceIP(netip.MustParsePrefix(tc.cidr))
		if err != nil || got.String() != tc.want {
			t.Errorf("FirstServiceIP(%s) = %v, %v; want %s", tc.cidr, got, err, tc.want)
		}
	}
	if _, err := FirstServiceIP(netip.MustParsePrefix("10.0.0.1/32")); err == nil {
		t.Error("FirstServiceIP accepted a /32")
	}
}
