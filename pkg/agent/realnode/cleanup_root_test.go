package realnode

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/tugcluster/tug/pkg/network"
	"github.com/tugcluster/tug/test/e2e/hosts"
)

// TestCleanupInHost: what a node installs on a machine (safety and peer
// routes, the service device, the pod bridge, a pod's network namespace
// and address lease) is gone after Cleanup, as `tug agent --cleanup`
// promises; a second Cleanup finds nothing and does not fail.
func TestCleanupInHost(t *testing.T) {
	if !hosts.Inside(t) {
		hosts.RequireRoot(t)
		for _, p := range []string{"bridge", "host-local"} {
			if _, err := os.Stat(filepath.Join(network.DefaultPluginDirs[0], p)); err != nil {
				t.Skipf("needs containernetworking-plugins: %v", err)
			}
		}
		br := hosts.NewBridge(t, "tugtbr0", "10.250.22.0/24")
		hosts.New(t, br, "clean", "10.250.22.2/24").RunTest(t)
		return
	}
	cfg := Config{NodeName: "n1", DataDir: t.TempDir(), BridgeName: "tugtbr9"}
	if err := cfg.setDefaults(); err != nil {
		t.Fatal(err)
	}
	if err := network.EnsureSafetyRoutes(cfg.ClusterCIDR, cfg.ServiceCIDR); err != nil {
		t.Fatal(err)
	}
	peer := netip.MustParsePrefix("10.42.9.0/24")
	if err := network.SyncPeerRoutes(map[netip.Prefix]netip.Addr{peer: netip.MustParseAddr("10.250.22.3")}); err != nil {
		t.Fatal(err)
	}
	n, err := network.New(cfg.networkConfig(netip.MustParsePrefix("10.42.1.0/24")))
	if err != nil {
		t.Fatal(err)
	}
	ns, err := network.CreateNetNS(cfg.netnsDir(), "sb1")
	if err != nil {
		t.Fatal(err)
	}
	pod := network.PodInfo{Namespace: "default", Name: "web", UID: "uid-1"}
	if _, err := n.Setup(context.Background(), "sb1", ns, pod); err != nil {
		t.Fatal(err)
	}
	if got := installed(t, cfg); len(got) != 6 {
		t.Fatalf("before cleanup: %v, want all six pieces", got)
	}

	for i := range 2 {
		if err := Cleanup(cfg); err != nil {
			t.Fatalf("cleanup %d: %v", i+1, err)
		}
		if got := installed(t, cfg); len(got) != 0 {
			t.Fatalf("after cleanup %d: %v left", i+1, got)
		}
	}
}

// installed lists which of a node's pieces exist on this machine.
func installed(t *testing.T, cfg Config) []string {
	t.Helper()
	var out []string
	routes, err := netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Protocol: network.RouteProtocol}, netlink.RT_FILTER_PROTOCOL)
	if err != nil {
		t.Fatal(err)
	}
	var unreachable, peers int
	for _, r := range routes {
		if r.Type == unix.RTN_UNREACHABLE {
			unreachable++
		} else {
			peers++
		}
	}
	if unreachable > 0 {
		out = append(out, "unreachable route")
	}
	if peers > 0 {
		out = append(out, "peer or service routes")
	}
	for _, dev := range []string{network.ServiceInterface, cfg.BridgeName} {
		if _, err := netlink.LinkByName(dev); err == nil {
			out = append(out, "device "+dev)
		}
	}
	if ids, _ := network.ListNetNS(cfg.netnsDir()); len(ids) > 0 {
		out = append(out, "network namespaces")
	}
	if leases, _ := filepath.Glob(filepath.Join(cfg.cniDir(), "ipam", "*", "10.*")); len(leases) > 0 {
		out = append(out, "address leases")
	}
	return out
}
