package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	cnitypes "github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
)

// requiredPlugins must be present in Config.PluginDirs; portmap is needed
// only by pods with hostPorts and is looked up when one asks. The pod's
// loopback device is brought up by CreateNetNS, not by a plugin.
var requiredPlugins = []string{"bridge", "host-local"}

// Network gives pod sandboxes their address on the node bridge through CNI.
// It is safe for concurrent use; host-local serializes address allocation
// with a lock in DataDir.
type Network struct {
	cfg Config
	cni *libcni.CNIConfig
	// loopback is only deleted, for sandboxes set up when the loopback
	// plugin still ran (its CNI cache entry says so).
	loopback *libcni.NetworkConfigList
	pod      *libcni.NetworkConfigList // without portmap
	podPorts *libcni.NetworkConfigList // with portmap
}

// Result is a pod's place on the network after Setup.
type Result struct {
	IP      netip.Addr
	Gateway netip.Addr
}

// New checks cfg and that the required plugins exist.
func New(cfg Config) (*Network, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	for _, p := range requiredPlugins {
		if _, err := invoke.FindInPath(p, cfg.PluginDirs); err != nil {
			return nil, fmt.Errorf("network: CNI plugin %q not found in %v (install containernetworking-plugins): %w", p, cfg.PluginDirs, err)
		}
	}
	n := &Network{cfg: cfg, cni: libcni.NewCNIConfigWithCacheDir(cfg.PluginDirs, cfg.CacheDir, nil)}
	if n.loopback, err = libcni.NetworkConfFromBytes(loopbackConflist()); err != nil {
		return nil, fmt.Errorf("network: loopback config: %w", err)
	}
	for _, v := range []struct {
		dst     **libcni.NetworkConfigList
		portmap bool
	}{{&n.pod, false}, {&n.podPorts, true}} {
		b, err := cfg.conflist(v.portmap)
		if err != nil {
			return nil, fmt.Errorf("network: pod config: %w", err)
		}
		if *v.dst, err = libcni.NetworkConfFromBytes(b); err != nil {
			return nil, fmt.Errorf("network: pod config: %w", err)
		}
	}
	return n, nil
}

// Config returns the configuration in force, defaults filled in.
func (n *Network) Config() Config { return n.cfg }

// Setup attaches the namespace at netnsPath to the node bridge and returns
// the pod's address. On failure it deletes whatever CNI added and removes
// the namespace, so the caller has nothing left to clean up.
func (n *Network) Setup(ctx context.Context, sandboxID, netnsPath string, pod PodInfo) (Result, error) {
	res, err := n.setup(ctx, sandboxID, netnsPath, pod)
	if err != nil {
		// The cleanup must run even when ctx is what failed.
		cleanupCtx := context.WithoutCancel(ctx)
		if terr := n.Teardown(cleanupCtx, sandboxID, netnsPath, pod); terr != nil {
			err = errors.Join(err, fmt.Errorf("cleanup: %w", terr))
		}
		return Result{}, fmt.Errorf("network setup %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return res, nil
}

func (n *Network) setup(ctx context.Context, sandboxID, netnsPath string, pod PodInfo) (Result, error) {
	if sandboxID == "" || !isNetNS(netnsPath) {
		return Result{}, fmt.Errorf("sandbox %q: %q is not a network namespace", sandboxID, netnsPath)
	}
	list := n.pod
	if len(pod.PortMappings) > 0 {
		list = n.podPorts
	}
	raw, err := n.cni.AddNetworkList(ctx, list, n.runtimeConf(sandboxID, netnsPath, PodInterface, pod))
	if err != nil {
		return Result{}, err
	}
	return parseResult(raw)
}

// Teardown deletes the pod's CNI attachments (its address returns to the
// pool, its hostPorts close) and removes the namespace at netnsPath. It is
// idempotent: a second call, or one for a sandbox that was never set up,
// returns nil. It deletes with the configuration recorded at Setup when the
// CNI cache has it, so a changed Config or PodInfo still cleans up fully.
func (n *Network) Teardown(ctx context.Context, sandboxID, netnsPath string, pod PodInfo) error {
	nsArg := netnsPath
	if !isNetNS(netnsPath) {
		// Plugins skip the in-namespace part when there is no namespace,
		// but fail on a path that is not one.
		nsArg = ""
	}
	var errs []error
	if err := n.del(ctx, n.pod, n.runtimeConf(sandboxID, nsArg, PodInterface, pod)); err != nil {
		errs = append(errs, fmt.Errorf("pod network: %w", err))
	}
	if lo := n.runtimeConf(sandboxID, nsArg, "lo", pod); n.cached(n.loopback, lo) {
		if err := n.del(ctx, n.loopback, lo); err != nil {
			errs = append(errs, fmt.Errorf("loopback: %w", err))
		}
	}
	if len(errs) == 0 {
		if err := DeleteNetNS(netnsPath); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("network teardown %s: %w", sandboxID, err)
	}
	return nil
}

// cached says whether the CNI cache holds an ADD of list for rt.
func (n *Network) cached(list *libcni.NetworkConfigList, rt *libcni.RuntimeConf) bool {
	b, _, err := n.cni.GetNetworkListCachedConfig(list, rt)
	return err == nil && b != nil
}

// del runs CNI DEL for one network, preferring the cached config and
// runtime arguments of the ADD.
func (n *Network) del(ctx context.Context, list *libcni.NetworkConfigList, rt *libcni.RuntimeConf) error {
	cachedBytes, cachedRT, err := n.cni.GetNetworkListCachedConfig(list, rt)
	if err == nil && cachedBytes != nil && cachedRT != nil {
		if cached, perr := libcni.NetworkConfFromBytes(cachedBytes); perr == nil {
			list = cached
			cachedRT.NetNS = rt.NetNS
			cachedRT.CacheDir = rt.CacheDir
			rt = cachedRT
		}
	}
	return n.cni.DelNetworkList(ctx, list, rt)
}

func (n *Network) runtimeConf(sandboxID, netnsPath, ifName string, pod PodInfo) *libcni.RuntimeConf {
	rt := &libcni.RuntimeConf{
		ContainerID: sandboxID,
		NetNS:       netnsPath,
		IfName:      ifName,
		Args:        cniArgs(sandboxID, pod),
		CacheDir:    n.cfg.CacheDir,
	}
	if ifName != "lo" {
		rt.CapabilityArgs = portMappingArgs(pod.PortMappings)
	}
	return rt
}

// parseResult picks the pod interface's IPv4 address out of a CNI result.
func parseResult(raw cnitypes.Result) (Result, error) {
	r, err := types100.NewResultFromResult(raw)
	if err != nil {
		return Result{}, fmt.Errorf("CNI result: %w", err)
	}
	for _, ipc := range r.IPs {
		if ipc.Interface != nil && (*ipc.Interface < 0 || *ipc.Interface >= len(r.Interfaces) ||
			r.Interfaces[*ipc.Interface].Sandbox == "") {
			continue // an address of a host-side interface
		}
		ip, ok := netip.AddrFromSlice(ipc.Address.IP)
		if !ok || !ip.Unmap().Is4() {
			continue
		}
		res := Result{IP: ip.Unmap()}
		if gw, ok := netip.AddrFromSlice(ipc.Gateway); ok {
			res.Gateway = gw.Unmap()
		}
		return res, nil
	}
	return Result{}, errors.New("CNI result has no pod IPv4 address")
}
