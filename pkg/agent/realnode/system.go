package realnode

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// NodeIP is the local address that reaches the server: the source address
// the kernel picks for a UDP "connect" to the server's host (no packet is
// sent). When that is a loopback address (a server on this machine), the
// first global unicast IPv4 address of an interface that is up and not
// tug's own is used instead, so other nodes and the API server can reach
// this node.
func NodeIP(serverURL string) (netip.Addr, error) {
	u, err := url.Parse(serverURL)
	if err != nil || u.Hostname() == "" {
		return netip.Addr{}, fmt.Errorf("node address: server URL %q has no host", serverURL)
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	conn, err := net.Dial("udp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("node address: no route to the server %s: %w", u.Host, err)
	}
	local, _ := netip.AddrFromSlice(conn.LocalAddr().(*net.UDPAddr).IP)
	conn.Close()
	local = local.Unmap()
	if !local.IsLoopback() {
		return local, nil
	}
	if a, ok := firstHostAddress(); ok {
		return a, nil
	}
	return local, nil
}

// firstHostAddress is the first global unicast IPv4 address of an up,
// non-loopback interface that tug did not create.
func firstHostAddress() (netip.Addr, bool) {
	ifs, err := net.Interfaces()
	if err != nil {
		return netip.Addr{}, false
	}
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 || strings.HasPrefix(ifc.Name, "tug") || strings.HasPrefix(ifc.Name, "veth") {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			p, err := netip.ParsePrefix(a.String())
			if err == nil && p.Addr().Is4() && p.Addr().IsGlobalUnicast() {
				return p.Addr(), true
			}
		}
	}
	return netip.Addr{}, false
}

// Capacity is the machine's cpu count and memory (from /proc/meminfo),
// plus the pod limit; ephemeral storage is the data directory's file
// system.
func Capacity(dataDir string) corev1.ResourceList {
	rl := corev1.ResourceList{
		corev1.ResourceCPU:  *resource.NewQuantity(int64(goruntime.NumCPU()), resource.DecimalSI),
		corev1.ResourcePods: *resource.NewQuantity(110, resource.DecimalSI),
	}
	if mem, ok := meminfo("/proc/meminfo", "MemTotal"); ok {
		rl[corev1.ResourceMemory] = *resource.NewQuantity(mem, resource.BinarySI)
	}
	if u, ok := fsUsage(dataDir); ok {
		rl[corev1.ResourceEphemeralStorage] = *resource.NewQuantity(int64(u.blocks)*u.blockSize, resource.BinarySI)
	}
	return rl
}

// meminfo reads one field (in kB, e.g. MemTotal) of a meminfo file, in
// bytes.
func meminfo(path, field string) (int64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		rest, ok := strings.CutPrefix(s.Text(), field+":")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return 0, false
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		return kb * 1024, err == nil
	}
	return 0, false
}
