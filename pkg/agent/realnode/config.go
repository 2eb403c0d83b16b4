package realnode

import (
	"errors"
	"log/slog"
	"net/netip"
	"path/filepath"

	"k8s.io/client-go/kubernetes"

	"github.com/tugcluster/tug/pkg/network"
)

// Defaults of Config.
var (
	DefaultClusterCIDR = netip.MustParsePrefix("10.42.0.0/16")
	DefaultServiceCIDR = netip.MustParsePrefix("10.43.0.0/16")
)

// DefaultDataDir is the data directory of `tug agent`.
const DefaultDataDir = "/var/lib/tug-agent"

// Config describes one real node.
type Config struct {
	// Client talks to the API server with the join token.
	Client kubernetes.Interface
	// ServerURL is the API server's URL; its host decides the node's
	// InternalIP (the local address that reaches it) unless NodeIP is set.
	ServerURL string
	// NodeName is the Node's name (required).
	NodeName string
	// DataDir holds everything the node keeps (required).
	DataDir string
	// ContainerdAddress is containerd's socket; empty starts a private
	// containerd under DataDir/containerd.
	ContainerdAddress string
	// PodCIDR is this node's pod range; invalid waits for the Node's
	// spec.podCIDR from the server's node IPAM.
	PodCIDR netip.Prefix
	// ClusterCIDR is the whole pod network: it gets an unreachable route.
	ClusterCIDR netip.Prefix
	// ServiceCIDR is routed to a local device that drops what no rule
	// rewrites.
	ServiceCIDR netip.Prefix
	// KubeletPort is the streaming API's port (10250).
	KubeletPort int
	// ClientCAFile is the cluster CA that signs the API server's client
	// certificate for the streaming API.
	ClientCAFile string
	// BridgeName is the pod bridge (tug0).
	BridgeName string
	// NodeIP overrides the detected InternalIP.
	NodeIP netip.Addr
	// CgroupParent of the pods (default /tug).
	CgroupParent string
	// LocalPathDirs are where local-path volumes of this node may live; the
	// node-side cleaner deletes released volumes only under them (default
	// /var/lib/tug/storage).
	LocalPathDirs []string
	Logger        *slog.Logger
}

func (c *Config) setDefaults() error {
	if c.NodeName == "" || c.DataDir == "" {
		return errors.New("node: name and data directory are required")
	}
	if !filepath.IsAbs(c.DataDir) {
		abs, err := filepath.Abs(c.DataDir)
		if err != nil {
			return err
		}
		c.DataDir = abs
	}
	if !c.ClusterCIDR.IsValid() {
		c.ClusterCIDR = DefaultClusterCIDR
	}
	if !c.ServiceCIDR.IsValid() {
		c.ServiceCIDR = DefaultServiceCIDR
	}
	if c.KubeletPort == 0 {
		c.KubeletPort = 10250
	}
	if c.BridgeName == "" {
		c.BridgeName = network.DefaultBridgeName
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// Directories under DataDir.
func (c *Config) netnsDir() string  { return filepath.Join(c.DataDir, "netns") }
func (c *Config) cniDir() string    { return filepath.Join(c.DataDir, "cni") }
func (c *Config) podsDir() string   { return filepath.Join(c.DataDir, "pods") }
func (c *Config) serverDir() string { return filepath.Join(c.DataDir, "server") }

func (c *Config) networkConfig(podCIDR netip.Prefix) network.Config {
	return network.Config{
		BridgeName: c.BridgeName,
		PodCIDR:    podCIDR,
		DataDir:    filepath.Join(c.cniDir(), "ipam"),
		CacheDir:   filepath.Join(c.cniDir(), "cache"),
	}
}
