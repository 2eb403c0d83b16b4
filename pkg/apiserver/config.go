package apiserver

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"net/netip"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// User is an authenticated caller.
type User struct {
	Name   string
	UID    string
	Groups []string
}

// Config is everything the API server needs from its caller (pkg/cluster).
type Config struct {
	// Etcd is the client every resource store uses.
	Etcd *clientv3.Client
	// ClientCA verifies client certificates: CN is the user name, O the
	// groups. Nil disables certificate authentication.
	ClientCA *x509.CertPool
	// Tokens maps bearer tokens to users.
	Tokens map[string]User
	// ServiceCIDR is where Service clusterIPs are allocated (10.43.0.0/16).
	ServiceCIDR netip.Prefix
	// NodePortMin and NodePortMax bound NodePort allocation (30000-32767).
	NodePortMin, NodePortMax int32
	// AdvertiseAddress and SecurePort are published as the endpoints of
	// the `kubernetes` Service in the default namespace (skipped when the
	// address is not set).
	AdvertiseAddress netip.Addr
	SecurePort       int32
	// DefaultTolerationSeconds is how long pods tolerate a not-ready or
	// unreachable node by default (300 s when zero).
	DefaultTolerationSeconds int64
	// Version is reported on /version (gitVersion, e.g. "v1.37.2-tug").
	Version string
	// WatchCacheSize is how many recent events each resource's watch cache
	// keeps for watches resuming from a resourceVersion (default 10,000).
	WatchCacheSize int
	// KubeletClientCert is presented to node agents when proxying logs,
	// exec, attach and port-forward (CN tug:apiserver, signed by the
	// cluster CA); without it agents refuse those requests.
	KubeletClientCert *tls.Certificate
	// WatchBookmarkInterval is how often idle watches get a BOOKMARK
	// (default one minute).
	WatchBookmarkInterval time.Duration
	// MetricsResolution is how long node usage fetched for metrics.k8s.io
	// is reused before agents are asked again (DefaultMetricsResolution
	// when zero).
	MetricsResolution time.Duration
	// ServiceAccountKey signs service account tokens (a P-256 ECDSA key).
	// Nil makes a key for this process only: tokens then stop working when
	// the server restarts.
	ServiceAccountKey crypto.Signer
	// ServiceAccountIssuers: the first is the iss claim of new service
	// account tokens; tokens of any are accepted, and each is an audience
	// the server accepts (satoken.DefaultIssuer when empty).
	ServiceAccountIssuers []string
	// Profiling serves Go's runtime profiles under /debug/pprof/ to
	// authenticated clients.
	Profiling bool
}
