package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"

	"github.com/tugcluster/tug/pkg/cluster/pki"
)

// Where the local agent keeps its state inside the server's data
// directory.
const (
	AgentDir = "agent"
	// ContainerdSocket is the local agent's containerd socket, relative to
	// the data directory (where `tug image import` looks by default).
	ContainerdSocket = "containerd/containerd.sock"
)

// LocalAgentConfig is what a local agent needs to join its own server.
type LocalAgentConfig struct {
	// URL is the server's URL for clients on this machine.
	URL string
	// Token is the join token; CAFile the cluster CA (verifying the
	// server, and the API server's client certificate at the agent).
	Token  string
	CAFile string
	// DataDir is <server data dir>/agent; ContainerdAddress the socket of
	// the containerd it uses or starts.
	DataDir           string
	ContainerdAddress string
	// ClusterCIDR and ServiceCIDR are the server's pod and Service
	// networks.
	ClusterCIDR, ServiceCIDR netip.Prefix
	// NodeIP is the advertised address, when one is configured.
	NodeIP netip.Addr
	Logger *slog.Logger
}

// LocalAgentFunc runs a node agent until ctx ends.
type LocalAgentFunc func(ctx context.Context, cfg LocalAgentConfig) error

func (c *Cluster) localAgentConfig() LocalAgentConfig {
	ip, _ := netip.ParseAddr(c.opts.AdvertiseAddress)
	return LocalAgentConfig{
		URL:               c.url,
		Token:             c.token,
		CAFile:            filepath.Join(c.opts.DataDir, PKIDir, pki.CACertFile),
		DataDir:           filepath.Join(c.opts.DataDir, AgentDir),
		ContainerdAddress: filepath.Join(c.opts.DataDir, ContainerdSocket),
		ClusterCIDR:       c.opts.PodCIDR,
		ServiceCIDR:       c.opts.ServiceCIDR,
		NodeIP:            ip,
		Logger:            c.log.With("component", "agent"),
	}
}

// runLocalAgent waits until the API server is ready, then runs the local
// agent until ctx ends. Without one configured it waits for ctx.
func (c *Cluster) runLocalAgent(ctx context.Context, apiReady <-chan struct{}) error {
	if c.opts.LocalAgent == nil {
		<-ctx.Done()
		return nil
	}
	select {
	case <-apiReady:
	case <-ctx.Done():
		return nil
	}
	if err := c.opts.LocalAgent(ctx, c.localAgentConfig()); err != nil && ctx.Err() == nil {
		return fmt.Errorf("local agent (run the server with --disable-agent to go without): %w", err)
	}
	if ctx.Err() == nil {
		return fmt.Errorf("local agent stopped unexpectedly")
	}
	return nil
}

// Token is the join token agents present.
func (c *Cluster) Token() string { return c.token }

// CAFile is the cluster CA certificate agents verify the server with.
func (c *Cluster) CAFile() string { return filepath.Join(c.opts.DataDir, PKIDir, pki.CACertFile) }
