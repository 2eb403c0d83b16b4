package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tugcluster/tug/internal/version"
	"github.com/tugcluster/tug/pkg/apiserver"
	"github.com/tugcluster/tug/pkg/cluster/kubeconfig"
	"github.com/tugcluster/tug/pkg/cluster/pki"
	"github.com/tugcluster/tug/pkg/cluster/token"
)

// Files and directories inside the data directory.
const (
	PKIDir         = "pki"
	EtcdDir        = "etcd"
	TokenFile      = "token"
	KubeconfigFile = "admin.kubeconfig"
)

// Identity of the join token holder. Node agents will present the token;
// until node credentials exist they act as this user.
const (
	AgentUser  = "tug:agent"
	AgentGroup = "system:nodes"
)

// Cluster is one tug server: storage, API server, HTTPS endpoint and
// controllers.
type Cluster struct {
	opts    Options
	log     *slog.Logger
	pki     *pki.Bundle
	token   string
	started atomic.Bool

	ready     chan struct{}
	readyOnce sync.Once
	url       string // set before ready is closed
}

// New checks opts and prepares the data directory: certificates (created on
// first start, reused or renewed later) and the join token. Nothing is
// started until Run.
func New(opts Options) (*Cluster, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	extra := append([]string{}, opts.ExtraSANs...)
	if opts.AdvertiseAddress != "" {
		extra = append(extra, opts.AdvertiseAddress)
	}
	hosts, err := pki.ServingHosts(opts.ServiceCIDR, extra...)
	if err != nil {
		return nil, fmt.Errorf("serving certificate hosts: %w", err)
	}
	bundle, err := pki.Ensure(pki.Options{Dir: filepath.Join(opts.DataDir, PKIDir), Hosts: hosts})
	if err != nil {
		return nil, err
	}
	tok, err := token.LoadOrCreate(filepath.Join(opts.DataDir, TokenFile))
	if err != nil {
		return nil, err
	}
	return &Cluster{
		opts:  opts,
		log:   opts.Logger,
		pki:   bundle,
		token: tok,
		ready: make(chan struct{}),
	}, nil
}

// Ready is closed when the API server answers requests: /readyz passes.
func (c *Cluster) Ready() <-chan struct{} { return c.ready }

// URL is the API server's URL as written into the admin kubeconfig
// (https://127.0.0.1:6443 by default). Valid once Ready is closed.
func (c *Cluster) URL() string {
	<-c.ready
	return c.url
}

// KubeconfigPath is where the admin kubeconfig is written.
func (c *Cluster) KubeconfigPath() string {
	return filepath.Join(c.opts.DataDir, KubeconfigFile)
}

// TokenPath is the file holding the join token.
func (c *Cluster) TokenPath() string {
	return filepath.Join(c.opts.DataDir, TokenFile)
}

// Run starts storage, the API server, the HTTPS listener and, once the API
// server is ready, the controllers, and serves until ctx ends or a component
// fails. Shutdown happens here only, in this order: stop the controllers,
// stop accepting and drain HTTP, stop the API server, close etcd. Run
// returns the first error (nil after a clean stop on ctx). A Cluster runs
// once.
func (c *Cluster) Run(ctx context.Context) (err error) {
	if !c.started.CompareAndSwap(false, true) {
		return errors.New("cluster: Run called twice")
	}
	ln, err := net.Listen("tcp", c.opts.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s for the API server: %w", c.opts.Listen, err)
	}
	defer ln.Close() // in case serving never starts

	store, err := c.startStorage(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := store.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close etcd: %w", cerr)
		}
	}()

	controllersToken, err := processToken()
	if err != nil {
		return err
	}
	// The kubernetes Service's endpoints name the advertised address; an
	// unparsable one was refused when the options were checked.
	advertised, _ := netip.ParseAddr(c.opts.AdvertiseAddress)
	api, err := apiserver.New(apiserver.Config{
		Etcd:     store.Client(),
		ClientCA: c.pki.CAPool,
		Tokens: map[string]apiserver.User{
			// Agents and controllers may do everything: there is no node
			// authorizer yet.
			c.token:          {Name: AgentUser, Groups: []string{AgentGroup, pki.AdminGroup}},
			controllersToken: {Name: ControllerManagerUser, Groups: []string{pki.AdminGroup}},
		},
		ServiceCIDR:              c.opts.ServiceCIDR,
		NodePortMin:              c.opts.NodePortRange.Min,
		NodePortMax:              c.opts.NodePortRange.Max,
		AdvertiseAddress:         advertised,
		SecurePort:               int32(ln.Addr().(*net.TCPAddr).Port),
		DefaultTolerationSeconds: int64(c.opts.PodEvictionTimeout / time.Second),
		Version:                  version.ServerGitVersion(),
		KubeletClientCert:        &c.pki.KubeletClient,
		ServiceAccountKey:        c.pki.ServiceAccountKey,
		ServiceAccountIssuers:    c.opts.ServiceAccountIssuers,
		Profiling:                c.opts.Profiling,
	})
	if err != nil {
		return fmt.Errorf("build API server: %w", err)
	}

	c.url = "https://" + net.JoinHostPort(clientHost(ln.Addr()), portOf(ln.Addr()))
	if err := kubeconfig.Write(c.KubeconfigPath(), kubeconfig.Admin{
		Server:  c.url,
		CAPEM:   c.pki.CACertPEM,
		CertPEM: c.pki.AdminCertPEM,
		KeyPEM:  c.pki.AdminKeyPEM,
	}); err != nil {
		return err
	}

	apiCtx, stopAPI := context.WithCancel(context.Background())
	defer stopAPI()
	apiDone := make(chan error, 1)
	go func() { apiDone <- api.Run(apiCtx) }()

	srv := newHTTPServer(api.Handler(), c.pki, c.log)
	serveDone := make(chan error, 1)
	go func() { serveDone <- srv.serve(ln) }()
	c.log.Info("API server listening", "address", ln.Addr().String(), "url", c.url)

	ctrlCtx, stopControllers := context.WithCancel(context.Background())
	defer stopControllers()
	ctrlDone := make(chan error, 1)
	go func() { ctrlDone <- c.runControllers(ctrlCtx, api.Ready(), controllersToken) }()

	agentCtx, stopAgent := context.WithCancel(context.Background())
	defer stopAgent()
	agentDone := make(chan error, 1)
	go func() { agentDone <- c.runLocalAgent(agentCtx, api.Ready()) }()

	runErr := c.wait(ctx, api.Ready(), apiDone, serveDone, ctrlDone, agentDone, store.Err())

	// Shutdown: the local agent and the controllers first, while the API
	// still serves them (releasing the leader Lease), then HTTP so no
	// request reaches a stopping API server.
	stopAgent()
	if err := <-agentDone; err != nil && runErr == nil {
		runErr = err
	}
	stopControllers()
	if err := <-ctrlDone; err != nil && runErr == nil {
		runErr = err
	}
	if err := srv.shutdown(c.opts.ShutdownTimeout); err != nil && runErr == nil {
		runErr = err
	}
	if err := <-serveDone; err != nil && !errors.Is(err, http.ErrServerClosed) && runErr == nil {
		runErr = fmt.Errorf("serve HTTPS: %w", err)
	}
	stopAPI()
	if err := <-apiDone; err != nil && runErr == nil {
		runErr = fmt.Errorf("API server: %w", err)
	}
	c.log.Info("tug server stopped")
	return runErr
}

// wait marks the cluster ready once the API server is, then blocks until ctx
// ends or a component stops (the controllers may only stop on an error). When a component's result is taken here, nil is
// put back in its (buffered) channel so the shutdown path's receive returns
// at once without reporting the error twice.
func (c *Cluster) wait(ctx context.Context, apiReady <-chan struct{}, apiDone chan error,
	serveDone chan error, ctrlDone chan error, agentDone chan error, etcdErr <-chan error) error {
	for {
		select {
		case <-apiReady:
			apiReady = nil
			c.readyOnce.Do(func() { close(c.ready) })
			c.log.Info("tug server ready", "url", c.url, "kubeconfig", c.KubeconfigPath())
		case err := <-apiDone:
			apiDone <- nil // let the shutdown path's receive return at once
			if err == nil {
				err = errors.New("stopped unexpectedly")
			}
			return fmt.Errorf("API server: %w", err)
		case err := <-serveDone:
			serveDone <- nil
			return fmt.Errorf("serve HTTPS: %w", err)
		case err := <-ctrlDone:
			ctrlDone <- nil
			if err == nil {
				err = errors.New("controllers stopped unexpectedly")
			}
			return err
		case err := <-agentDone:
			agentDone <- nil
			if err == nil {
				err = errors.New("local agent stopped unexpectedly")
			}
			return err
		case err := <-etcdErr:
			if err == nil {
				err = errors.New("stopped unexpectedly")
			}
			return fmt.Errorf("etcd: %w", err)
		case <-ctx.Done():
			c.log.Info("shutting down")
			return nil
		}
	}
}

// clientHost is the host local clients use to reach a listener: loopback
// when it listens on every address, else the address itself.
func clientHost(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || tcp.IP == nil || tcp.IP.IsUnspecified() {
		return "127.0.0.1"
	}
	return tcp.IP.String()
}

func portOf(addr net.Addr) string {
	_, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return ""
	}
	return port
}
