package probes

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// DialFunc opens a network connection; net.Dialer.DialContext is one.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Prober runs probe and hook handlers. It is safe for concurrent use.
type Prober struct {
	dial      DialFunc
	execer    runtime.Execer
	simulated bool
	userAgent string
}

// Option configures a Prober.
type Option func(*Prober)

// WithDialer replaces the dialer of httpGet, tcpSocket and grpc
// handlers (the default dials from the agent's network namespace).
func WithDialer(d DialFunc) Option { return func(p *Prober) { p.dial = d } }

// WithExecer runs exec handlers through e; without one they report
// Unknown.
func WithExecer(e runtime.Execer) Option { return func(p *Prober) { p.execer = e } }

// WithSimulatedNetwork makes httpGet, tcpSocket and grpc handlers
// succeed without dialing, for simulated nodes whose pod addresses
// exist only in the API.
func WithSimulatedNetwork() Option { return func(p *Prober) { p.simulated = true } }

// WithUserAgent sets the User-Agent of HTTP probes ("kube-probe/1.37"
// by default).
func WithUserAgent(ua string) Option { return func(p *Prober) { p.userAgent = ua } }

// NewProber returns a Prober.
func NewProber(opts ...Option) *Prober {
	d := &net.Dialer{}
	p := &Prober{dial: d.DialContext, userAgent: "kube-probe/1.37"}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Target is the container a handler runs against.
type Target struct {
	Pod         *corev1.Pod
	Container   *corev1.Container
	ContainerID string
	// PodIP is the default host of httpGet, tcpSocket and grpc handlers.
	PodIP string
}

// Probe runs one attempt of the probe's handler, bounded by its
// timeoutSeconds.
func (p *Prober) Probe(ctx context.Context, t Target, pr *corev1.Probe) Outcome {
	timeout := time.Duration(orDefault(pr.TimeoutSeconds, 1)) * time.Second
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	h := &pr.ProbeHandler
	switch {
	case h.Exec != nil:
		return p.exec(ctx, t, h.Exec.Command, timeout)
	case h.HTTPGet != nil:
		return p.httpGet(ctx, t, h.HTTPGet, timeout)
	case h.TCPSocket != nil:
		return p.tcp(ctx, t, h.TCPSocket)
	case h.GRPC != nil:
		return p.grpc(ctx, t, h.GRPC, timeout)
	}
	return unknown("missing probe handler for %s", t.Container.Name)
}

func orDefault(v, def int32) int32 {
	if v <= 0 {
		return def
	}
	return v
}

// resolvePort turns a port number or a named container port into a
// number.
func resolvePort(port intstr.IntOrString, c *corev1.Container) (int, error) {
	if port.Type == intstr.Int {
		if port.IntVal <= 0 || port.IntVal > 65535 {
			return 0, fmt.Errorf("invalid port number: %d", port.IntVal)
		}
		return int(port.IntVal), nil
	}
	for _, cp := range c.Ports {
		if cp.Name == port.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	if n, err := strconv.Atoi(port.StrVal); err == nil && n > 0 && n <= 65535 {
		return n, nil
	}
	return 0, fmt.Errorf("couldn't find port: %v in %v", port.StrVal, c.Name)
}

// hostPort is host (the pod address when empty) with the port.
func hostPort(host string, t Target, port int) string {
	if host == "" {
		host = t.PodIP
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

func (p *Prober) tcp(ctx context.Context, t Target, a *corev1.TCPSocketAction) Outcome {
	port, err := resolvePort(a.Port, t.Container)
	if err != nil {
		return unknown("%v", err)
	}
	if p.simulated {
		return Outcome{Result: Success}
	}
	conn, err := p.dial(ctx, "tcp", hostPort(a.Host, t, port))
	if err != nil {
		return failure("%v", err)
	}
	_ = conn.Close()
	return Outcome{Result: Success}
}
