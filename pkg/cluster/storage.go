package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/tugcluster/tug/pkg/storage/etcd"
)

// etcdCheckTimeout bounds the first request to an external etcd cluster.
const etcdCheckTimeout = 10 * time.Second

// EtcdMemberName names the embedded member. One name serves while a server
// runs a single member; joining members will need names of their own.
const EtcdMemberName = "tug"

// store is the etcd the API server uses, embedded or external.
type store interface {
	Client() *clientv3.Client
	// Err delivers a fatal error of an embedded member (never for an
	// external cluster).
	Err() <-chan error
	Close() error
}

func (c *Cluster) startStorage(ctx context.Context) (store, error) {
	if len(c.opts.EtcdEndpoints) > 0 {
		return c.connectExternalEtcd(ctx)
	}
	return c.startEmbeddedEtcd(ctx)
}

type embeddedStore struct {
	*etcd.Embedded
	log *etcdLog
}

func (s embeddedStore) Close() error {
	s.log.shuttingDown()
	s.Embedded.Close()
	return nil
}

func (c *Cluster) startEmbeddedEtcd(ctx context.Context) (store, error) {
	cfg := etcd.EmbeddedConfig{
		DataDir:   filepath.Join(c.opts.DataDir, EtcdDir),
		Name:      EtcdMemberName,
		FreePorts: true, // only for ports given as 0
	}
	elog := newEtcdLog(c.log)
	cfg.Logger = elog.logger()
	for _, p := range []struct {
		what string
		port int
		url  *string
	}{
		{"client", c.opts.EtcdClientPort, &cfg.ClientURL},
		{"peer", c.opts.EtcdPeerPort, &cfg.PeerURL},
	} {
		if p.port == 0 {
			continue
		}
		if err := checkPortFree(p.port); err != nil {
			return nil, fmt.Errorf("embedded etcd %s port: %w; choose another one "+
				"(tug server --etcd-%s-port, 0 picks a free port) or stop the process using it",
				p.what, err, p.what)
		}
		*p.url = "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port))
	}
	e, err := etcd.StartEmbedded(ctx, cfg)
	if err != nil {
		return nil, err
	}
	c.log.Info("embedded etcd started", "dataDir", cfg.DataDir, "endpoints", e.Endpoints())
	return embeddedStore{Embedded: e, log: elog}, nil
}

// checkPortFree reports a loopback port that is already taken, so a second
// server on the same machine fails with a message naming the port instead of
// an etcd internal error.
func checkPortFree(port int) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("%s is already in use", addr)
		}
		return fmt.Errorf("cannot listen on %s: %w", addr, err)
	}
	return l.Close()
}

type externalStore struct{ client *clientv3.Client }

func (s externalStore) Client() *clientv3.Client { return s.client }
func (s externalStore) Err() <-chan error        { return nil }
func (s externalStore) Close() error             { return s.client.Close() }

func (c *Cluster) connectExternalEtcd(ctx context.Context) (store, error) {
	tlsCfg, err := c.etcdTLS()
	if err != nil {
		return nil, err
	}
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   c.opts.EtcdEndpoints,
		DialTimeout: 5 * time.Second,
		TLS:         tlsCfg,
	})
	if err != nil {
		return nil, fmt.Errorf("connect to etcd %v: %w", c.opts.EtcdEndpoints, err)
	}
	checkCtx, cancel := context.WithTimeout(ctx, etcdCheckTimeout)
	defer cancel()
	if _, err := client.Get(checkCtx, "/registry/health-check", clientv3.WithCountOnly()); err != nil {
		client.Close()
		return nil, fmt.Errorf("etcd %v not reachable: %w", c.opts.EtcdEndpoints, err)
	}
	c.log.Info("connected to etcd", "endpoints", c.opts.EtcdEndpoints)
	return externalStore{client}, nil
}

// etcdTLS builds the client TLS configuration from the etcd flags; nil when
// none is given (plain http endpoints).
func (c *Cluster) etcdTLS() (*tls.Config, error) {
	o := c.opts
	if o.EtcdCAFile == "" && o.EtcdCertFile == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.EtcdCAFile != "" {
		pem, err := os.ReadFile(o.EtcdCAFile)
		if err != nil {
			return nil, fmt.Errorf("etcd CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("etcd CA %s: no PEM certificate", o.EtcdCAFile)
		}
		cfg.RootCAs = pool
	}
	if o.EtcdCertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.EtcdCertFile, o.EtcdKeyFile)
		if err != nil {
			return nil, fmt.Errorf("etcd client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
