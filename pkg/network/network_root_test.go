package network

// These tests need root. Each builds a test host (a network namespace on a
// test bridge, see test/e2e/hosts) and runs its body in a child test process
// inside that host, so every route, bridge, sysctl and socket it makes lives
// there and the machine's own namespace is never touched.

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/tugcluster/tug/test/e2e/hosts"
)

var (
	testPodCIDR     = netip.MustParsePrefix("10.42.0.0/16")
	testServiceCIDR = netip.MustParsePrefix("10.43.0.0/16")
)

// inHost runs body inside a fresh test host on its own bridge; it returns
// false in the parent, where the child's result has been checked already.
func inHost(t *testing.T, subnet, addr string) bool {
	t.Helper()
	if hosts.Inside(t) {
		return true
	}
	hosts.RequireRoot(t)
	for _, p := range append([]string{"portmap"}, requiredPlugins...) {
		if _, err := os.Stat(filepath.Join(DefaultPluginDirs[0], p)); err != nil {
			t.Skipf("needs containernetworking-plugins: %v", err)
		}
	}
	br := hosts.NewBridge(t, "tugtbr0", subnet)
	h := hosts.New(t, br, "net", addr)
	h.RunTest(t)
	return false
}

func TestPodNetworkInHost(t *testing.T) {
	if !inHost(t, "10.250.11.0/24", "10.250.11.2/24") {
		return
	}
	if err := EnsureSafetyRoutes(testPodCIDR, testServiceCIDR); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { RemoveSafetyRoutes() })
	dir := t.TempDir()
	n, err := New(Config{
		BridgeName: "tugtbr1",
		PodCIDR:    netip.MustParsePrefix("10.42.7.0/24"),
		DataDir:    filepath.Join(dir, "ipam"),
		CacheDir:   filepath.Join(dir, "cache"),
	})
	if err != nil {
		t.Fatal(err)
	}
	nsDir := filepath.Join(dir, "netns")
	ctx := context.Background()
	pod := PodInfo{Namespace: "default", Name: "web", UID: "uid-1"}

	ns1, res1 := setupPod(t, n, nsDir, "sb1", pod)
	_, res2 := setupPod(t, n, nsDir, "sb2", PodInfo{Namespace: "default", Name: "db"})
	if !n.Config().PodCIDR.Contains(res1.IP) || res1.Gateway != netip.MustParseAddr("10.42.7.1") || res1.IP == res2.IP {
		t.Fatalf("results %+v %+v: want distinct addresses in 10.42.7.0/24 via 10.42.7.1", res1, res2)
	}
	lease := filepath.Join(dir, "ipam", "tug", res1.IP.String())
	if _, err := os.Stat(lease); err != nil {
		t.Errorf("host-local lease: %v", err)
	}
	if ids, _ := ListNetNS(nsDir); !cmp.Equal(ids, []string{"sb1", "sb2"}) {
		t.Errorf("ListNetNS = %v", ids)
	}

	// node → pod, pod → pod, pod → node (through its default route).
	echo(t, "", res1.IP, ns1, "node to pod")
	echo(t, ns1, res2.IP, filepath.Join(nsDir, "sb2"), "pod to pod")
	echo(t, ns1, res1.Gateway, "", "pod to node")
	echo(t, ns1, netip.MustParseAddr("127.0.0.1"), ns1, "pod to its own loopback")

	// A cluster address no node owns fails at once, from the node and from a
	// pod; an outside address has no route at all.
	unused := netip.MustParseAddr("10.42.99.5")
	dialFails(t, "", unused, unix.EHOSTUNREACH)
	dialFails(t, ns1, unused, unix.EHOSTUNREACH)
	dialFails(t, "", netip.MustParseAddr("192.0.2.1"), unix.ENETUNREACH)

	if err := n.Teardown(ctx, "sb1", ns1, pod); err != nil {
		t.Fatalf("teardown: %v", err)
	}
	if _, err := os.Stat(lease); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lease after teardown: %v, want gone", err)
	}
	if _, err := os.Stat(ns1); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("netns after teardown: %v, want gone", err)
	}
	if err := n.Teardown(ctx, "sb1", ns1, pod); err != nil {
		t.Errorf("second teardown: %v", err)
	}
	if err := n.Teardown(ctx, "never", filepath.Join(nsDir, "never"), pod); err != nil {
		t.Errorf("teardown of unknown sandbox: %v", err)
	}

	// A failed Setup leaves neither lease nor namespace behind.
	ns3, err := CreateNetNS(nsDir, "sb3")
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := n.Setup(cancelled, "sb3", ns3, PodInfo{Namespace: "default", Name: "x"}); err == nil {
		t.Fatal("setup with a cancelled context succeeded")
	}
	if _, err := os.Stat(ns3); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("netns after failed setup: %v, want gone", err)
	}
	leases, _ := filepath.Glob(filepath.Join(dir, "ipam", "tug", "10.*"))
	if want := []string{filepath.Join(dir, "ipam", "tug", res2.IP.String())}; !cmp.Equal(leases, want) {
		t.Errorf("leases = %v, want only %v", leases, want)
	}

	if err := n.Teardown(ctx, "sb2", filepath.Join(nsDir, "sb2"), PodInfo{}); err != nil {
		t.Fatalf("teardown sb2: %v", err)
	}
	if ids, _ := ListNetNS(nsDir); len(ids) != 0 {
		t.Errorf("netns left: %v", ids)
	}
}

func TestSafetyRoutesInHost(t *testing.T) {
	if !inHost(t, "10.250.12.0/24", "10.250.12.2/24") {
		return
	}
	for range 2 {
		if err := EnsureSafetyRoutes(testPodCIDR, testServiceCIDR); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := netlink.RouteGet(net.ParseIP("10.42.5.5")); !errors.Is(err, unix.EHOSTUNREACH) {
		t.Errorf("route to a pod address: %+v, %v; want unreachable", r, err)
	}
	svc, err := netlink.LinkByName(ServiceInterface)
	if err != nil {
		t.Fatal(err)
	}
	r, err := netlink.RouteGet(net.ParseIP("10.43.0.10"))
	if err != nil || r[0].LinkIndex != svc.Attrs().Index {
		t.Errorf("route to a service address: %+v, %v; want dev %s", r, err, ServiceInterface)
	}
	dialFails(t, "", netip.MustParseAddr("10.42.5.5"), unix.EHOSTUNREACH)

	for range 2 {
		if err := RemoveSafetyRoutes(); err != nil {
			t.Fatal(err)
		}
	}
	if routes, _ := tugRoutes(); len(routes) != 0 {
		t.Errorf("routes left: %v", routes)
	}
	if _, err := netlink.LinkByName(ServiceInterface); err == nil {
		t.Errorf("%s left", ServiceInterface)
	}
}

func TestPeerRoutesInHost(t *testing.T) {
	if !inHost(t, "10.250.13.0/24", "10.250.13.2/24") {
		return
	}
	a, b := netip.MustParsePrefix("10.42.8.0/24"), netip.MustParsePrefix("10.42.9.0/24")
	peer1, peer2 := netip.MustParseAddr("10.250.13.3"), netip.MustParseAddr("10.250.13.4")
	steps := []map[netip.Prefix]netip.Addr{
		{a: peer1, b: peer1},
		{a: peer2},
		nil,
	}
	for _, want := range steps {
		if err := SyncPeerRoutes(want); err != nil {
			t.Fatal(err)
		}
		got := map[netip.Prefix]netip.Addr{}
		routes, err := tugRoutes()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range routes {
			p, _ := prefixOf(r.Dst)
			gw, _ := netip.AddrFromSlice(r.Gw)
			got[p] = gw.Unmap()
		}
		if want == nil {
			want = map[netip.Prefix]netip.Addr{}
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateComparable(netip.Prefix{}, netip.Addr{})); diff != "" {
			t.Errorf("peer routes (-want +got):\n%s", diff)
		}
	}
	// The host's own connected route is not tug's and stays.
	r, err := netlink.RouteGet(net.ParseIP("10.250.13.9"))
	if err != nil || len(r) == 0 || r[0].Gw != nil {
		t.Errorf("connected route: %+v, %v", r, err)
	}
	if err := SyncPeerRoutes(map[netip.Prefix]netip.Addr{a: netip.MustParseAddr("192.0.2.1")}); err == nil {
		t.Error("peer that is not on a connected network accepted")
	}
}

func setupPod(t *testing.T, n *Network, dir, id string, pod PodInfo) (string, Result) {
	t.Helper()
	ns, err := CreateNetNS(dir, id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Teardown(context.Background(), id, ns, pod) })
	res, err := n.Setup(context.Background(), id, ns, pod)
	if err != nil {
		t.Fatalf("setup %s: %v", id, err)
	}
	return ns, res
}

// inNS runs fn on a thread switched into the namespace at path ("" for the
// current one). The thread is never unlocked, so the runtime discards it.
func inNS(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(path)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// echo listens on addr inside listenNS and checks that a connection from
// dialNS reaches it both ways.
func echo(t *testing.T, dialNS string, addr netip.Addr, listenNS, what string) {
	t.Helper()
	var ln net.Listener
	if err := inNS(listenNS, func() (err error) {
		ln, err = net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
		return err
	}); err != nil {
		t.Fatalf("%s: listen: %v", what, err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(c, c)
			c.Close()
		}
	}()
	var c net.Conn
	if err := inNS(dialNS, func() (err error) {
		c, err = net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
		return err
	}); err != nil {
		t.Fatalf("%s: dial %v: %v", what, ln.Addr(), err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatalf("%s: write: %v", what, err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("%s: echo %q, %v", what, buf, err)
	}
}

// dialFails checks that a TCP connect from ns to addr fails with want
// quickly, i.e. locally, not after a timeout.
func dialFails(t *testing.T, ns string, addr netip.Addr, want error) {
	t.Helper()
	start := time.Now()
	err := inNS(ns, func() error {
		c, err := net.DialTimeout("tcp", netip.AddrPortFrom(addr, 80).String(), 3*time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
	if !errors.Is(err, want) || time.Since(start) > 2*time.Second {
		t.Errorf("dial %v from %q: %v after %v, want %v at once", addr, ns, err, time.Since(start), want)
	}
}
