package containerd

import (
	"context"
	"net/netip"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Config configures Start.
type Config struct {
	// Address is containerd's socket. Empty: <DataDir>/containerd/containerd.sock.
	Address string
	// DataDir holds sandboxes, logs, FIFOs, registries.yaml and, when
	// tug starts its own daemon, containerd's root and state.
	DataDir string
	// Namespace is the containerd namespace (default "tug").
	Namespace string
	// ContainerdBinary is started when nothing answers on Address
	// (default "containerd" from PATH) unless NoDaemon is set.
	ContainerdBinary string
	NoDaemon         bool
	// RuncRoot is runc's state directory (default <DataDir>/runc), so
	// several agents on one machine never see each other's containers.
	RuncRoot string
	// CgroupParent is the cgroup path every pod lives under (default
	// "/tug"); per agent on a shared machine.
	CgroupParent string
	// Snapshotter overrides the choice of overlayfs (or native where
	// overlayfs is unavailable).
	Snapshotter string
	// Network sets up pod networks. Nil: LoopbackNetwork under DataDir.
	Network SandboxNetwork
	// DNS is written to each pod's /etc/resolv.conf for dnsPolicy
	// ClusterFirst. Empty servers: the host's resolv.conf is copied.
	DNS DNSConfig
	// LogMaxBytes rotates a container log file past this size (default
	// 10 MiB); LogMaxFiles rotated files are kept (default 2).
	LogMaxBytes int64
	LogMaxFiles int
	// StartTimeout bounds waiting for a started daemon (default 20s).
	StartTimeout time.Duration
}

// DNSConfig is the cluster DNS the pods resolve through.
type DNSConfig struct {
	Servers  []string
	Searches []string // searches after the pod's namespace ones
	Domain   string   // cluster domain, default cluster.local
	Options  []string
}

// SandboxNetwork gives a pod sandbox its network: a namespace, and an
// address inside it. Setup and Teardown must be idempotent per sandbox.
type SandboxNetwork interface {
	CreateNetNS(ctx context.Context, sandboxID string) (path string, err error)
	DeleteNetNS(ctx context.Context, path string) error
	Setup(ctx context.Context, sandboxID, netnsPath string, pod *corev1.Pod) (netip.Addr, error)
	Teardown(ctx context.Context, sandboxID, netnsPath string, pod *corev1.Pod) error
}

func (c *Config) setDefaults() {
	if c.Namespace == "" {
		c.Namespace = "tug"
	}
	if c.Address == "" {
		c.Address = filepath.Join(c.DataDir, "containerd", "containerd.sock")
	}
	if c.ContainerdBinary == "" {
		c.ContainerdBinary = "containerd"
	}
	if c.RuncRoot == "" {
		c.RuncRoot = filepath.Join(c.DataDir, "runc")
	}
	if c.CgroupParent == "" {
		c.CgroupParent = "/tug"
	}
	if c.DNS.Domain == "" {
		c.DNS.Domain = "cluster.local"
	}
	if c.LogMaxBytes <= 0 {
		c.LogMaxBytes = 10 << 20
	}
	if c.LogMaxFiles <= 0 {
		c.LogMaxFiles = 2
	}
	if c.StartTimeout <= 0 {
		c.StartTimeout = 20 * time.Second
	}
	if c.Network == nil {
		c.Network = NewLoopbackNetwork(filepath.Join(c.DataDir, "netns"))
	}
}
