package realnode

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/tugcluster/tug/pkg/network"
)

func node(name, cidr string, addrs ...corev1.NodeAddress) corev1.Node {
	return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{PodCIDR: cidr}, Status: corev1.NodeStatus{Addresses: addrs}}
}

func TestPeerRoutes(t *testing.T) {
	ip := func(a string) corev1.NodeAddress { return corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: a} }
	got := peerRoutes("a", []corev1.Node{
		node("a", "10.42.0.0/24", ip("10.0.0.1")),
		node("b", "10.42.1.0/24", corev1.NodeAddress{Type: corev1.NodeHostName, Address: "b"}, ip("10.0.0.2")),
		node("c", "", ip("10.0.0.3")),
		node("d", "10.42.3.0/24"),
		node("e", "10.42.4.7/24", ip("fd00::5"), ip("10.0.0.5")),
	})
	want := map[netip.Prefix]netip.Addr{
		netip.MustParsePrefix("10.42.1.0/24"): netip.MustParseAddr("10.0.0.2"),
		netip.MustParsePrefix("10.42.4.0/24"): netip.MustParseAddr("10.0.0.5"),
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("peer routes (-want +got):\n%s", diff)
	}
}

func TestPodInfoHostPorts(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u"}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Ports: []corev1.ContainerPort{
			{ContainerPort: 80, HostPort: 8080},
			{ContainerPort: 53, HostPort: 5353, Protocol: corev1.ProtocolUDP, HostIP: "127.0.0.1"},
			{ContainerPort: 9000},
		}}},
	}}
	want := network.PodInfo{Namespace: "ns", Name: "p", UID: "u", PortMappings: []network.PortMapping{
		{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"},
		{HostPort: 5353, ContainerPort: 53, Protocol: "udp", HostIP: "127.0.0.1"},
	}}
	if diff := cmp.Diff(want, podInfo(pod)); diff != "" {
		t.Errorf("pod info (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(network.PodInfo{}, podInfo(nil)); diff != "" {
		t.Errorf("nil pod: %s", diff)
	}
}

func TestMeminfo(t *testing.T) {
	p := filepath.Join(t.TempDir(), "meminfo")
	if err := os.WriteFile(p, []byte("MemFree:  10 kB\nMemTotal:       2048 kB\nMemAvailable:  1024 kB\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, ok := meminfo(p, "MemTotal"); !ok || got != 2048*1024 {
		t.Errorf("MemTotal = %d, %v; want 2 MiB", got, ok)
	}
	if got, ok := meminfo(p, "MemAvailable"); !ok || got != 1024*1024 {
		t.Errorf("MemAvailable = %d, %v; want 1 MiB", got, ok)
	}
	if _, ok := meminfo(filepath.Join(t.TempDir(), "none"), "MemTotal"); ok {
		t.Error("meminfo of a missing file reported a value")
	}
}

func TestDiskPressure(t *testing.T) {
	for _, tc := range []struct {
		name string
		u    fsStats
		ok   bool
		want string
	}{
		{"plenty", fsStats{blocks: 100, blocksAvail: 50, files: 100, filesFree: 50}, true, ""},
		{"blocks", fsStats{blocks: 100, blocksAvail: 9, files: 100, filesFree: 50}, true, "kubelet has disk pressure: 9% of the node file system available, threshold 10%"},
		{"inodes", fsStats{blocks: 100, blocksAvail: 50, files: 100, filesFree: 4}, true, "kubelet has disk pressure: 4% of the node file system's inodes free, threshold 5%"},
		{"no inode count", fsStats{blocks: 100, blocksAvail: 50}, true, ""},
		{"not measured", fsStats{}, false, ""},
	} {
		if got := diskPressure(tc.u, tc.ok); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestCapacityHasCPUAndPods(t *testing.T) {
	c := Capacity(t.TempDir())
	if c.Cpu().IsZero() || c.Pods().Value() != 110 {
		t.Errorf("capacity = %v, want cpus and 110 pods", c)
	}
}

func TestNodeIP(t *testing.T) {
	if _, err := NodeIP("not a url"); err == nil {
		t.Error("NodeIP of a URL without host succeeded")
	}
	// A server on this machine: never the loopback address when the
	// machine has another one.
	ip, err := NodeIP("https://127.0.0.1:6443")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := firstHostAddress(); ok && ip.IsLoopback() {
		t.Errorf("NodeIP = %v, want a host address", ip)
	}
}

func TestConfigDefaults(t *testing.T) {
	c := Config{NodeName: "n", DataDir: "rel"}
	if err := c.setDefaults(); err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(c.DataDir) || c.BridgeName != "tug0" || c.KubeletPort != 10250 ||
		c.ClusterCIDR != DefaultClusterCIDR || c.ServiceCIDR != DefaultServiceCIDR {
		t.Errorf("defaults = %+v", c)
	}
	nc := c.networkConfig(netip.MustParsePrefix("10.42.5.0/24"))
	if nc.DataDir != filepath.Join(c.DataDir, "cni", "ipam") || nc.CacheDir != filepath.Join(c.DataDir, "cni", "cache") || nc.BridgeName != "tug0" {
		t.Errorf("network config = %+v", nc)
	}
	if err := (&Config{DataDir: "/x"}).setDefaults(); err == nil {
		t.Error("a config without node name was accepted")
	}
}

func TestWrongTokenIsRefused(t *testing.T) {
	client := fake.NewClientset()
	client.PrependReactor("get", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewUnauthorized("Unauthorized")
	})
	cfg := Config{Client: client, NodeName: "n", DataDir: t.TempDir(), ServerURL: "https://192.0.2.1:6443"}
	if err := cfg.setDefaults(); err != nil {
		t.Fatal(err)
	}
	err := checkToken(context.Background(), cfg)
	if !errors.Is(err, ErrTokenRefused) || !strings.Contains(err.Error(), "the server refused the join token") {
		t.Errorf("checkToken = %v, want ErrTokenRefused", err)
	}
	if err := checkToken(context.Background(), Config{Client: fake.NewClientset(), NodeName: "n", Logger: cfg.Logger}); err != nil {
		t.Errorf("checkToken with a good token = %v", err)
	}
}
