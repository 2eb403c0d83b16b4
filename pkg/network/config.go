package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
)

// Defaults for Config fields left empty.
const (
	DefaultNetworkName = "tug"
	DefaultBridgeName  = "tug0"
	// PodInterface is the pod's interface on the node bridge.
	PodInterface = "eth0"
	cniVersion   = "1.0.0"
	// loopbackNetwork is the CNI network that only brings the pod's
	// loopback device up.
	loopbackNetwork = "tug-loopback"
)

// DefaultPluginDirs are where Debian (containernetworking-plugins) and the
// upstream release tarballs put the CNI plugins.
var DefaultPluginDirs = []string{"/usr/lib/cni", "/opt/cni/bin"}

// Config describes one node's pod network.
type Config struct {
	// NetworkName is the CNI network name; host-local keeps its leases in
	// DataDir/NetworkName. Default "tug".
	NetworkName string
	// BridgeName is the node bridge the pods attach to. Default "tug0";
	// tests give each node its own.
	BridgeName string
	// PodCIDR is this node's pod range (IPv4); the bridge takes its first
	// address as the pods' gateway.
	PodCIDR netip.Prefix
	// PluginDirs are searched for the CNI plugin binaries, in order.
	// Default DefaultPluginDirs.
	PluginDirs []string
	// DataDir holds host-local's address leases (absolute path, per agent).
	DataDir string
	// CacheDir holds libcni's record of each attachment (absolute path, per
	// agent), which Teardown uses to delete exactly what Setup added.
	CacheDir string
	// MTU of the bridge and pod interfaces; 0 lets the plugin choose.
	MTU int
	// IPMasq masquerades pod traffic leaving the node. Off by default: no
	// cluster traffic may leave the machine. It needs iptables in the
	// node's namespace.
	IPMasq bool
}

// PodInfo identifies the pod whose sandbox is being wired, for CNI_ARGS and
// hostPort mappings.
type PodInfo struct {
	Namespace string
	Name      string
	UID       string
	// PortMappings are the pod's hostPorts. The portmap plugin (iptables in
	// the node's namespace) runs only when there is at least one.
	PortMappings []PortMapping
}

// PortMapping forwards HostIP:HostPort on the node to the pod's
// ContainerPort.
type PortMapping struct {
	HostPort      int32  `json:"hostPort"`
	ContainerPort int32  `json:"containerPort"`
	Protocol      string `json:"protocol"` // "tcp", "udp" or "sctp"
	HostIP        string `json:"hostIP,omitempty"`
}

// withDefaults fills empty fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if c.NetworkName == "" {
		c.NetworkName = DefaultNetworkName
	}
	if c.BridgeName == "" {
		c.BridgeName = DefaultBridgeName
	}
	if len(c.PluginDirs) == 0 {
		c.PluginDirs = DefaultPluginDirs
	}
	var errs []error
	if len(c.BridgeName) > 15 {
		errs = append(errs, fmt.Errorf("bridge name %q longer than 15 characters", c.BridgeName))
	}
	if !c.PodCIDR.IsValid() || !c.PodCIDR.Addr().Is4() || c.PodCIDR.Bits() > 30 {
		errs = append(errs, fmt.Errorf("pod CIDR %v: need an IPv4 prefix of /30 or wider", c.PodCIDR))
	}
	c.PodCIDR = c.PodCIDR.Masked()
	if !filepath.IsAbs(c.DataDir) {
		errs = append(errs, fmt.Errorf("data dir %q must be an absolute path", c.DataDir))
	}
	if !filepath.IsAbs(c.CacheDir) {
		errs = append(errs, fmt.Errorf("cache dir %q must be an absolute path", c.CacheDir))
	}
	if c.MTU < 0 {
		errs = append(errs, fmt.Errorf("MTU %d is negative", c.MTU))
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("network config: %w", err)
	}
	return c, nil
}

// Gateway is the pods' default gateway: the bridge's address, the first in
// the pod CIDR.
func (c Config) Gateway() netip.Addr {
	return c.PodCIDR.Masked().Addr().Next()
}

// conflist returns the CNI network list for the pod network: bridge with
// host-local IPAM, plus portmap when withPortmap.
func (c Config) conflist(withPortmap bool) ([]byte, error) {
	bridge := map[string]any{
		"type":             "bridge",
		"bridge":           c.BridgeName,
		"isGateway":        true,
		"isDefaultGateway": true,
		"ipMasq":           c.IPMasq,
		"hairpinMode":      true,
		"ipam": map[string]any{
			"type":    "host-local",
			"dataDir": c.DataDir,
			"ranges": [][]map[string]string{{{
				"subnet":  c.PodCIDR.String(),
				"gateway": c.Gateway().String(),
			}}},
		},
	}
	if c.MTU > 0 {
		bridge["mtu"] = c.MTU
	}
	plugins := []any{bridge}
	if withPortmap {
		plugins = append(plugins, map[string]any{
			"type":         "portmap",
			"capabilities": map[string]bool{"portMappings": true},
		})
	}
	return json.Marshal(map[string]any{
		"cniVersion": cniVersion,
		"name":       c.NetworkName,
		"plugins":    plugins,
	})
}

// loopbackConflist returns the CNI network list that brings lo up.
func loopbackConflist() []byte {
	return []byte(`{"cniVersion":"` + cniVersion + `","name":"` + loopbackNetwork +
		`","plugins":[{"type":"loopback"}]}`)
}

// cniArgs are the CNI_ARGS for a pod. IgnoreUnknown=1 lets plugins that do
// not know the K8S_* keys (bridge, host-local) accept them.
func cniArgs(sandboxID string, pod PodInfo) [][2]string {
	args := [][2]string{
		{"IgnoreUnknown", "1"},
		{"K8S_POD_NAMESPACE", pod.Namespace},
		{"K8S_POD_NAME", pod.Name},
		{"K8S_POD_INFRA_CONTAINER_ID", sandboxID},
	}
	if pod.UID != "" {
		args = append(args, [2]string{"K8S_POD_UID", pod.UID})
	}
	return args
}

// portMappingArgs are the capability args portmap reads.
func portMappingArgs(pms []PortMapping) map[string]any {
	if len(pms) == 0 {
		return nil
	}
	out := make([]PortMapping, len(pms))
	for i, pm := range pms {
		pm.Protocol = strings.ToLower(pm.Protocol)
		if pm.Protocol == "" {
			pm.Protocol = "tcp"
		}
		out[i] = pm
	}
	return map[string]any{"portMappings": out}
}
