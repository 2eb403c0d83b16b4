package pki

import (
	"fmt"
	"net"
	"net/netip"
	"os"
)

// ServiceDNSNames are the in-cluster names of the API server's Service.
var ServiceDNSNames = []string{
	"kubernetes",
	"kubernetes.default",
	"kubernetes.default.svc",
	"kubernetes.default.svc.cluster.local",
}

// FirstServiceIP is the address the "kubernetes" Service gets: the first
// host address of the service CIDR (10.43.0.1 for 10.43.0.0/16).
func FirstServiceIP(serviceCIDR netip.Prefix) (netip.Addr, error) {
	if !serviceCIDR.IsValid() {
		return netip.Addr{}, fmt.Errorf("invalid service CIDR")
	}
	first := serviceCIDR.Masked().Addr().Next()
	if !first.IsValid() || !serviceCIDR.Contains(first) {
		return netip.Addr{}, fmt.Errorf("service CIDR %s has no room for a service address", serviceCIDR)
	}
	return first, nil
}

// ServingHosts lists what the API server's certificate must cover: the
// loopback names and addresses, this machine's host name and interface
// addresses (except loopback and link-local ones, which need a zone to be
// reached), the in-cluster Service names and address, and any extra names or
// addresses the operator asked for.
func ServingHosts(serviceCIDR netip.Prefix, extra ...string) ([]string, error) {
	serviceIP, err := FirstServiceIP(serviceCIDR)
	if err != nil {
		return nil, err
	}
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if name, err := os.Hostname(); err == nil && name != "" {
		hosts = append(hosts, name)
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("list interface addresses: %w", err)
	}
	for _, a := range addrs {
		ipnet, ok := a.(*net.IPNet)
		if !ok || ipnet.IP.IsLoopback() || ipnet.IP.IsLinkLocalUnicast() {
			continue
		}
		hosts = append(hosts, ipnet.IP.String())
	}
	hosts = append(hosts, ServiceDNSNames...)
	hosts = append(hosts, serviceIP.String())
	return append(hosts, extra...), nil
}
