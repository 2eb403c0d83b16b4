package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults for Options fields left empty.
const (
	DefaultListen          = ":6443"
	DefaultShutdownTimeout = 10 * time.Second
)

// Defaults shared with the command line.
var (
	DefaultServiceCIDR   = netip.MustParsePrefix("10.43.0.0/16")
	DefaultPodCIDR       = netip.MustParsePrefix("10.42.0.0/16")
	DefaultNodePortRange = PortRange{Min: 30000, Max: 32767}
)

// PortRange is an inclusive range of TCP/UDP ports.
type PortRange struct {
	Min, Max int32
}

// ParsePortRange reads "30000-32767".
func ParsePortRange(s string) (PortRange, error) {
	lo, hi, ok := strings.Cut(s, "-")
	if !ok {
		return PortRange{}, fmt.Errorf("port range %q: want MIN-MAX", s)
	}
	min, err := strconv.ParseInt(strings.TrimSpace(lo), 10, 32)
	if err != nil {
		return PortRange{}, fmt.Errorf("port range %q: %w", s, err)
	}
	max, err := strconv.ParseInt(strings.TrimSpace(hi), 10, 32)
	if err != nil {
		return PortRange{}, fmt.Errorf("port range %q: %w", s, err)
	}
	r := PortRange{Min: int32(min), Max: int32(max)}
	if err := r.validate(); err != nil {
		return PortRange{}, fmt.Errorf("port range %q: %w", s, err)
	}
	return r, nil
}

func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.Min, r.Max) }

func (r PortRange) validate() error {
	if r.Min < 1 || r.Max > 65535 || r.Min > r.Max {
		return errors.New("want 1 <= MIN <= MAX <= 65535")
	}
	return nil
}

// Options configure a tug server. Zero values take the documented defaults.
type Options struct {
	// DataDir holds pki/, etcd/, token and admin.kubeconfig. Required.
	DataDir string
	// Listen is the API server's address (default ":6443").
	Listen string
	// AdvertiseAddress is the address other machines reach this server at;
	// it is added to the serving certificate.
	AdvertiseAddress string
	// ExtraSANs are more names or addresses for the serving certificate.
	ExtraSANs []string

	// EtcdEndpoints selects an external etcd cluster; empty starts the
	// embedded member under DataDir/etcd.
	EtcdEndpoints []string
	// EtcdCAFile, EtcdCertFile and EtcdKeyFile configure TLS to an external
	// etcd cluster (all optional).
	EtcdCAFile, EtcdCertFile, EtcdKeyFile string
	// EtcdClientPort and EtcdPeerPort are the embedded member's loopback
	// ports; 0 picks a free port.
	EtcdClientPort, EtcdPeerPort int

	// ServiceCIDR is where Service addresses come from (10.43.0.0/16).
	ServiceCIDR netip.Prefix
	// PodCIDR is the cluster's pod network (10.42.0.0/16); stored for the
	// components that hand out node ranges.
	PodCIDR netip.Prefix
	// NodePortRange bounds NodePort allocation (30000-32767).
	NodePortRange PortRange
	// NodeCIDRMaskSize is the size of each node's podCIDR (0: 24).
	NodeCIDRMaskSize int
	// NodeMonitorGracePeriod: a node silent this long turns Unknown (0: 40s).
	NodeMonitorGracePeriod time.Duration
	// PodEvictionTimeout: default tolerationSeconds of the not-ready and
	// unreachable taints (0: 5m).
	PodEvictionTimeout time.Duration

	// LocalAgent runs this machine's node agent next to the server once
	// the API server is ready, and stops before the controllers. Nil (the
	// default) runs none; `tug server` sets it unless --disable-agent. A
	// failing local agent stops the server.
	LocalAgent LocalAgentFunc

	// ServiceAccountIssuers: the first is the issuer (iss claim and
	// discovery URL) of new service account tokens; tokens of the others
	// are still accepted, so the issuer can move without refusing the
	// tokens pods hold. Each must be an https URL (default
	// https://kubernetes.default.svc.cluster.local).
	ServiceAccountIssuers []string

	// Profiling serves Go runtime profiles at /debug/pprof/ on the API
	// port, to authenticated clients.
	Profiling bool

	// Logger receives the server's logs (default slog.Default()).
	Logger *slog.Logger
	// ShutdownTimeout bounds how long in-flight requests may take to finish
	// after the context ends (default 10s).
	ShutdownTimeout time.Duration
}

// withDefaults fills zero fields and checks the result.
func (o Options) withDefaults() (Options, error) {
	if o.DataDir == "" {
		return o, errors.New("data directory is required")
	}
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	if _, _, err := net.SplitHostPort(o.Listen); err != nil {
		return o, fmt.Errorf("listen address %q: %w", o.Listen, err)
	}
	if o.AdvertiseAddress != "" {
		a, err := netip.ParseAddr(o.AdvertiseAddress)
		if err != nil {
			return o, fmt.Errorf("advertise address %q is not an IP address", o.AdvertiseAddress)
		}
		// It becomes the kubernetes Service's endpoint, which pods and other
		// machines must reach (Kubernetes refuses such endpoints too).
		if a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsMulticast() || a.IsUnspecified() {
			return o, fmt.Errorf("advertise address %s cannot be reached from pods or other machines (loopback, link-local, multicast or unspecified); leave it empty to run on this machine only", a)
		}
	}
	if !o.ServiceCIDR.IsValid() {
		o.ServiceCIDR = DefaultServiceCIDR
	}
	if !o.PodCIDR.IsValid() {
		o.PodCIDR = DefaultPodCIDR
	}
	o.ServiceCIDR, o.PodCIDR = o.ServiceCIDR.Masked(), o.PodCIDR.Masked()
	if o.ServiceCIDR.Overlaps(o.PodCIDR) {
		return o, fmt.Errorf("service CIDR %s overlaps pod CIDR %s", o.ServiceCIDR, o.PodCIDR)
	}
	if o.NodePortRange == (PortRange{}) {
		o.NodePortRange = DefaultNodePortRange
	}
	if err := o.NodePortRange.validate(); err != nil {
		return o, fmt.Errorf("node port range %s: %w", o.NodePortRange, err)
	}
	for _, p := range []struct {
		name string
		port int
	}{{"etcd client port", o.EtcdClientPort}, {"etcd peer port", o.EtcdPeerPort}} {
		if p.port < 0 || p.port > 65535 {
			return o, fmt.Errorf("%s %d out of range 0-65535", p.name, p.port)
		}
	}
	if o.EtcdClientPort != 0 && o.EtcdClientPort == o.EtcdPeerPort {
		return o, fmt.Errorf("etcd client and peer port are both %d", o.EtcdClientPort)
	}
	if len(o.EtcdEndpoints) == 0 && (o.EtcdCAFile != "" || o.EtcdCertFile != "" || o.EtcdKeyFile != "") {
		return o, errors.New("etcd TLS files given without etcd endpoints")
	}
	if (o.EtcdCertFile == "") != (o.EtcdKeyFile == "") {
		return o, errors.New("etcd client certificate and key must be given together")
	}
	for _, iss := range o.ServiceAccountIssuers {
		if u, err := url.Parse(iss); err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return o, fmt.Errorf("service account issuer %q: want an https URL without query or fragment", iss)
		}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	return o, nil
}
