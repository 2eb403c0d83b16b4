package apiserver

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
)

// serviceAllocator hands out Service cluster IPs and NodePorts. Its state
// is rebuilt from the stored Services when the server starts; the stored
// Services are the source of truth.
type serviceAllocator struct {
	mu               sync.Mutex
	cidr             netip.Prefix
	size             uint32
	ips              map[netip.Addr]string // address → namespace/name
	ports            map[int32]string
	minPort, maxPort int32
}

func newServiceAllocator(cidr netip.Prefix, minPort, maxPort int32) *serviceAllocator {
	bits := 32 - cidr.Bits()
	if cidr.Addr().Is6() {
		bits = min(128-cidr.Bits(), 24)
	}
	return &serviceAllocator{
		cidr: cidr.Masked(), size: uint32(1) << min(bits, 24),
		ips: map[netip.Addr]string{}, ports: map[int32]string{},
		minPort: minPort, maxPort: maxPort,
	}
}

// firstIP is the address of the kubernetes Service (10.43.0.1).
func (a *serviceAllocator) firstIP() netip.Addr { return a.cidr.Addr().Next() }

func (a *serviceAllocator) nth(n uint32) netip.Addr {
	b := a.cidr.Addr().AsSlice()
	for i := len(b) - 1; i >= 0 && n > 0; i-- {
		sum := uint32(b[i]) + n&0xff
		b[i] = byte(sum)
		n = n>>8 + sum>>8
	}
	addr, _ := netip.AddrFromSlice(b)
	return addr
}

// allocateIP picks a free address (not the network or last address).
func (a *serviceAllocator) allocateIP(owner string) (netip.Addr, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	usable := a.size - 2
	start := rand.Uint32N(usable)
	for i := uint32(0); i < usable; i++ {
		ip := a.nth(1 + (start+i)%usable)
		if _, used := a.ips[ip]; !used {
			a.ips[ip] = owner
			return ip, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("range is full")
}

// reserveIP takes a specific address for owner.
func (a *serviceAllocator) reserveIP(ip netip.Addr, owner string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.cidr.Contains(ip) || ip == a.cidr.Addr() || ip == a.nth(a.size-1) {
		return fmt.Errorf("provided IP is not in the valid range. The range of valid IPs is %s", a.cidr)
	}
	if cur, used := a.ips[ip]; used && cur != owner {
		return fmt.Errorf("provided IP is already allocated")
	}
	a.ips[ip] = owner
	return nil
}

func (a *serviceAllocator) releaseIP(ip netip.Addr, owner string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ips[ip] == owner {
		delete(a.ips, ip)
	}
}

// allocatePort picks a free NodePort.
func (a *serviceAllocator) allocatePort(owner string) (int32, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := a.maxPort - a.minPort + 1
	start := rand.Int32N(n)
	for i := int32(0); i < n; i++ {
		p := a.minPort + (start+i)%n
		if _, used := a.ports[p]; !used {
			a.ports[p] = owner
			return p, nil
		}
	}
	return 0, fmt.Errorf("range is full")
}

// reservePort takes a specific NodePort for owner.
func (a *serviceAllocator) reservePort(p int32, owner string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if p < a.minPort || p > a.maxPort {
		return fmt.Errorf("provided port is not in the valid range. The range of valid ports is %d-%d", a.minPort, a.maxPort)
	}
	if cur, used := a.ports[p]; used && cur != owner {
		return fmt.Errorf("provided port is already allocated")
	}
	a.ports[p] = owner
	return nil
}

func (a *serviceAllocator) releasePort(p int32, owner string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ports[p] == owner {
		delete(a.ports, p)
	}
}
