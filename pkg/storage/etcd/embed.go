package etcd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Embedded-member defaults.
const (
	// DefaultClientURL and DefaultPeerURL are where an embedded member
	// listens when the config leaves them empty and does not ask for free
	// ports.
	DefaultClientURL = "http://127.0.0.1:2379"
	DefaultPeerURL   = "http://127.0.0.1:2380"
	// DefaultCompactionRetention keeps five minutes of history: enough for
	// watch caches and paged lists to resume, small enough to keep the
	// database lean under heavy churn.
	DefaultCompactionRetention = "5m"
	// DefaultQuotaBackendBytes is the database size at which etcd raises
	// its NOSPACE alarm and turns read-only (4 GiB).
	DefaultQuotaBackendBytes = 4 << 30
	// defaultReadyTimeout bounds how long StartEmbedded waits for the
	// member to serve.
	defaultReadyTimeout = 30 * time.Second
)

// EmbeddedConfig configures an embedded single-member etcd.
type EmbeddedConfig struct {
	// DataDir holds the member's data (required).
	DataDir string
	// Name of the member; "default" when empty.
	Name string
	// ClientURL and PeerURL are the loopback URLs the member listens on.
	// Empty means DefaultClientURL / DefaultPeerURL, or free ports when
	// FreePorts is set.
	ClientURL, PeerURL string
	// FreePorts picks free loopback ports for URLs left empty.
	FreePorts bool
	// CompactionRetention is the periodic auto-compaction window
	// (DefaultCompactionRetention when empty).
	CompactionRetention string
	// QuotaBackendBytes (DefaultQuotaBackendBytes when 0).
	QuotaBackendBytes int64
	// Logger receives etcd's logs; when nil only errors are logged, to
	// stderr.
	Logger *zap.Logger
}

// Embedded is a running embedded etcd member with a client connected to it.
type Embedded struct {
	etcd      *embed.Etcd
	client    *clientv3.Client
	endpoints []string
	// quiet, when set, silences the logger StartEmbedded built, so that a
	// normal shutdown does not log its closed listeners as errors.
	quiet     func()
	closeOnce sync.Once
}

// StartEmbedded starts a single-member etcd and returns once it serves.
// The member stops when Close is called (not when ctx ends: ctx only
// bounds the start).
func StartEmbedded(ctx context.Context, cfg EmbeddedConfig) (*Embedded, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("embedded etcd: no data dir")
	}
	ec := embed.NewConfig()
	ec.Dir = cfg.DataDir
	if cfg.Name != "" {
		ec.Name = cfg.Name
	}
	clientURL, err := memberURL(cfg.ClientURL, DefaultClientURL, cfg.FreePorts)
	if err != nil {
		return nil, err
	}
	peerURL, err := memberURL(cfg.PeerURL, DefaultPeerURL, cfg.FreePorts)
	if err != nil {
		return nil, err
	}
	ec.ListenClientUrls = []url.URL{*clientURL}
	ec.AdvertiseClientUrls = []url.URL{*clientURL}
	ec.ListenPeerUrls = []url.URL{*peerURL}
	ec.AdvertisePeerUrls = []url.URL{*peerURL}
	ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
	// A single member elects itself after 1-11 election ticks; short ticks
	// make it serve within ~100 ms.
	ec.TickMs = 10
	ec.ElectionMs = 100
	ec.AutoCompactionMode = embed.CompactorModePeriodic
	ec.AutoCompactionRetention = cfg.CompactionRetention
	if ec.AutoCompactionRetention == "" {
		ec.AutoCompactionRetention = DefaultCompactionRetention
	}
	ec.QuotaBackendBytes = cfg.QuotaBackendBytes
	if ec.QuotaBackendBytes == 0 {
		ec.QuotaBackendBytes = DefaultQuotaBackendBytes
	}
	lg := cfg.Logger
	quiet := func() {}
	if lg == nil {
		zc := zap.NewProductionConfig()
		zc.Level = zap.NewAtomicLevelAt(zap.ErrorLevel)
		if lg, err = zc.Build(); err != nil {
			return nil, fmt.Errorf("embedded etcd logger: %w", err)
		}
		quiet = func() { zc.Level.SetLevel(zap.FatalLevel) }
	}
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(lg)

	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("start embedded etcd: %w", err)
	}
	timer := time.NewTimer(defaultReadyTimeout)
	defer timer.Stop()
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		quiet()
		e.Close()
		return nil, fmt.Errorf("embedded etcd failed to start: %w", err)
	case <-timer.C:
		quiet()
		e.Close()
		return nil, fmt.Errorf("embedded etcd not ready after %s", defaultReadyTimeout)
	case <-ctx.Done():
		quiet()
		e.Close()
		return nil, fmt.Errorf("start embedded etcd: %w", ctx.Err())
	}

	endpoints := []string{clientURL.String()}
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		Logger:      lg,
	})
	if err != nil {
		quiet()
		e.Close()
		return nil, fmt.Errorf("connect to embedded etcd: %w", err)
	}
	return &Embedded{etcd: e, client: client, endpoints: endpoints, quiet: quiet}, nil
}

// Client returns a client of the member; Close closes it.
func (e *Embedded) Client() *clientv3.Client { return e.client }

// Endpoints returns the client URLs of the member.
func (e *Embedded) Endpoints() []string { return append([]string(nil), e.endpoints...) }

// Err reports a fatal error of the running member.
func (e *Embedded) Err() <-chan error { return e.etcd.Err() }

// Close closes the client and stops the member. It is safe to call more
// than once.
func (e *Embedded) Close() {
	e.closeOnce.Do(func() {
		_ = e.client.Close()
		e.quiet()
		e.etcd.Close()
	})
}

// memberURL parses u, or falls back to def, or to a free loopback port.
func memberURL(u, def string, free bool) (*url.URL, error) {
	if u == "" && free {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		u = fmt.Sprintf("http://127.0.0.1:%d", port)
	}
	if u == "" {
		u = def
	}
	parsed, err := url.Parse(u)
	if err != nil {
		return nil, fmt.Errorf("embedded etcd url %q: %w", u, err)
	}
	return parsed, nil
}

// freePort asks the kernel for a free loopback TCP port. Another process
// may take it before etcd binds it; that surfaces as a start error.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
