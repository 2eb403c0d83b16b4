package pki

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File names inside the PKI directory.
const (
	CACertFile     = "ca.crt"
	CAKeyFile      = "ca.key"
	ServerCertFile = "server.crt"
	ServerKeyFile  = "server.key"
	AdminCertFile  = "admin.crt"
	AdminKeyFile   = "admin.key"
	// KubeletClientCertFile and KubeletClientKeyFile are the API server's
	// client identity towards node agents.
	KubeletClientCertFile = "apiserver-kubelet-client.crt"
	KubeletClientKeyFile  = "apiserver-kubelet-client.key"
)

// KubeletClientUser is the API server's identity (certificate CN) when it
// calls node agents; agents serve no one else.
const KubeletClientUser = "tug:apiserver"

// Validity periods and the renewal margin.
const (
	CAValidity   = 10 * 365 * 24 * time.Hour
	LeafValidity = 365 * 24 * time.Hour
	// RenewBefore is how long before expiry a leaf certificate is replaced.
	RenewBefore = 30 * 24 * time.Hour
)

// Admin identity: Kubernetes reads the user from CN and the groups from O.
const (
	AdminUser  = "admin"
	AdminGroup = "system:masters"
)

// Options say where the files live and what the serving certificate covers.
type Options struct {
	// Dir holds the PEM files; it is created (0700) if missing.
	Dir string
	// Hosts are the DNS names and IP addresses (as text) that the serving
	// certificate must cover.
	Hosts []string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Bundle is the loaded PKI.
type Bundle struct {
	CA        *x509.Certificate
	CAPool    *x509.CertPool
	CACertPEM []byte
	// Serving is the API server's certificate chain and key.
	Serving tls.Certificate
	// AdminCertPEM and AdminKeyPEM authenticate the cluster admin.
	AdminCertPEM, AdminKeyPEM []byte
	// KubeletClient is the API server's client certificate for node
	// agents (CN tug:apiserver).
	KubeletClient tls.Certificate
	// ServiceAccountKey signs service account tokens.
	ServiceAccountKey crypto.Signer
}

// Ensure loads the PKI from opts.Dir, creating the CA on first start and
// (re)issuing the serving and admin certificates when they are missing,
// signed by another CA, about to expire, or (for the serving certificate)
// no longer covering opts.Hosts. An existing but unreadable CA is an error:
// replacing it silently would invalidate every issued credential.
func Ensure(opts Options) (*Bundle, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	if opts.Dir == "" {
		return nil, errors.New("pki: no directory given")
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	dnsNames, ips := splitHosts(opts.Hosts)

	ca, err := ensureCA(opts.Dir, now())
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)

	serving, err := ensureLeaf(opts.Dir, ServerCertFile, ServerKeyFile, ca, pool, now(), template{
		subject:  pkix.Name{CommonName: "tug-apiserver"},
		validFor: LeafValidity,
		usages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		dnsNames: dnsNames,
		ips:      ips,
	}, func(c *x509.Certificate) bool { return covers(c, dnsNames, ips) })
	if err != nil {
		return nil, fmt.Errorf("pki: serving certificate: %w", err)
	}
	admin, err := ensureLeaf(opts.Dir, AdminCertFile, AdminKeyFile, ca, pool, now(), template{
		subject:  pkix.Name{CommonName: AdminUser, Organization: []string{AdminGroup}},
		validFor: LeafValidity,
		usages:   []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, func(c *x509.Certificate) bool {
		return c.Subject.CommonName == AdminUser && len(c.Subject.Organization) == 1 &&
			c.Subject.Organization[0] == AdminGroup
	})
	if err != nil {
		return nil, fmt.Errorf("pki: admin certificate: %w", err)
	}
	kubeletClient, err := ensureLeaf(opts.Dir, KubeletClientCertFile, KubeletClientKeyFile, ca, pool, now(), template{
		subject:  pkix.Name{CommonName: KubeletClientUser},
		validFor: LeafValidity,
		usages:   []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, func(c *x509.Certificate) bool { return c.Subject.CommonName == KubeletClientUser })
	if err != nil {
		return nil, fmt.Errorf("pki: kubelet client certificate: %w", err)
	}
	saKey, err := ensureServiceAccountKey(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	return &Bundle{
		ServiceAccountKey: saKey,
		CA:                ca.cert,
		CAPool:            pool,
		CACertPEM:         ca.certPEM,
		Serving: tls.Certificate{
			Certificate: [][]byte{serving.cert.Raw},
			PrivateKey:  serving.key,
			Leaf:        serving.cert,
		},
		AdminCertPEM: admin.certPEM,
		AdminKeyPEM:  admin.keyPEM,
		KubeletClient: tls.Certificate{
			Certificate: [][]byte{kubeletClient.cert.Raw},
			PrivateKey:  kubeletClient.key,
			Leaf:        kubeletClient.cert,
		},
	}, nil
}

func ensureCA(dir string, now time.Time) (*keyPair, error) {
	ca, err := load(dir, CACertFile, CAKeyFile)
	if err == nil {
		if !ca.cert.IsCA {
			return nil, fmt.Errorf("%s is not a CA certificate", CACertFile)
		}
		return ca, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load CA: %w", err)
	}
	for _, name := range []string{CACertFile, CAKeyFile} {
		if _, statErr := os.Stat(filepath.Join(dir, name)); statErr == nil {
			return nil, fmt.Errorf("load CA: %s exists but its pair is missing: %w", name, err)
		}
	}
	ca, err = issue(template{
		subject:  pkix.Name{CommonName: "tug-ca"},
		isCA:     true,
		validFor: CAValidity,
	}, nil, now)
	if err != nil {
		return nil, fmt.Errorf("create CA: %w", err)
	}
	if err := ca.save(dir, CACertFile, CAKeyFile); err != nil {
		return nil, fmt.Errorf("create CA: %w", err)
	}
	return ca, nil
}

// ensureLeaf reuses the stored certificate when it chains to the CA, stays
// valid for more than RenewBefore and satisfies fits; otherwise it issues a
// new one from t.
func ensureLeaf(dir, certFile, keyFile string, ca *keyPair, pool *x509.CertPool, now time.Time,
	t template, fits func(*x509.Certificate) bool) (*keyPair, error) {
	kp, err := load(dir, certFile, keyFile)
	if err == nil && usable(kp.cert, pool, t.usages, now) && fits(kp.cert) {
		return kp, nil
	}
	kp, err = issue(t, ca, now)
	if err != nil {
		return nil, err
	}
	if err := kp.save(dir, certFile, keyFile); err != nil {
		return nil, err
	}
	return kp, nil
}

func usable(c *x509.Certificate, pool *x509.CertPool, usages []x509.ExtKeyUsage, now time.Time) bool {
	if now.Add(RenewBefore).After(c.NotAfter) {
		return false
	}
	_, err := c.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now, KeyUsages: usages})
	return err == nil
}

func covers(c *x509.Certificate, dnsNames []string, ips []net.IP) bool {
	for _, want := range dnsNames {
		found := false
		for _, have := range c.DNSNames {
			if strings.EqualFold(have, want) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	for _, want := range ips {
		found := false
		for _, have := range c.IPAddresses {
			if have.Equal(want) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// splitHosts separates IP literals from DNS names and drops duplicates,
// keeping the first-seen order.
func splitHosts(hosts []string) (dnsNames []string, ips []net.IP) {
	seen := map[string]bool{}
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if addr, err := netip.ParseAddr(h); err == nil {
			addr = addr.Unmap().WithZone("")
			if seen[addr.String()] {
				continue
			}
			seen[addr.String()] = true
			ips = append(ips, net.IP(addr.AsSlice()))
			continue
		}
		name := strings.ToLower(h)
		if seen[name] {
			continue
		}
		seen[name] = true
		dnsNames = append(dnsNames, name)
	}
	return dnsNames, ips
}
