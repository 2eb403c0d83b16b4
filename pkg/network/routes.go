package network

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// ServiceInterface is the device the service CIDR is routed to: a dummy
// device, or on kernels built without the dummy driver a bridge with no
// ports and ARP off; both drop whatever is sent to them. Service addresses
// exist only as nftables DNAT rules; a local connect to one must first find
// a route (the nat output hook runs after routing), and a packet no rule
// rewrites is dropped on this device instead of leaving the node.
const ServiceInterface = "tug-svc0"

// RouteProtocol marks every route this package installs (rtm_protocol), so
// SyncPeerRoutes and RemoveSafetyRoutes touch only tug's routes.
const RouteProtocol netlink.RouteProtocol = 0x74

// EnsureSafetyRoutes makes sure no packet for a cluster address leaves the
// node: the whole pod CIDR gets an unreachable route (the bridge's connected
// route for the node's own range and peer routes are more specific and win)
// and the service CIDR is routed to ServiceInterface. It acts in the calling
// process's network namespace and is idempotent.
func EnsureSafetyRoutes(podCIDR, serviceCIDR netip.Prefix) error {
	for _, p := range []netip.Prefix{podCIDR, serviceCIDR} {
		if !p.IsValid() || !p.Addr().Is4() {
			return fmt.Errorf("safety routes: %v is not an IPv4 prefix", p)
		}
	}
	if err := netlink.RouteReplace(&netlink.Route{
		Dst:      ipNet(podCIDR),
		Type:     unix.RTN_UNREACHABLE,
		Protocol: RouteProtocol,
		Table:    unix.RT_TABLE_MAIN,
	}); err != nil {
		return fmt.Errorf("safety routes: unreachable %v: %w", podCIDR, err)
	}
	link, err := ensureSink(ServiceInterface)
	if err != nil {
		return fmt.Errorf("safety routes: %w", err)
	}
	if err := netlink.RouteReplace(&netlink.Route{
		LinkIndex: link.Attrs().Index,
		Dst:       ipNet(serviceCIDR),
		Scope:     netlink.SCOPE_LINK,
		Protocol:  RouteProtocol,
		Table:     unix.RT_TABLE_MAIN,
	}); err != nil {
		return fmt.Errorf("safety routes: %v dev %s: %w", serviceCIDR, ServiceInterface, err)
	}
	return nil
}

// RemoveSafetyRoutes removes what EnsureSafetyRoutes installed: the
// unreachable routes it marked and ServiceInterface with its route. Missing
// pieces are not an error.
func RemoveSafetyRoutes() error {
	var errs []error
	routes, err := tugRoutes()
	if err != nil {
		return fmt.Errorf("remove safety routes: %w", err)
	}
	for _, r := range routes {
		if r.Type != unix.RTN_UNREACHABLE {
			continue
		}
		if err := netlink.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("delete %v: %w", r.Dst, err))
		}
	}
	link, err := netlink.LinkByName(ServiceInterface)
	switch {
	case err == nil:
		if err := netlink.LinkDel(link); err != nil {
			errs = append(errs, fmt.Errorf("delete %s: %w", ServiceInterface, err))
		}
	case !isLinkNotFound(err):
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("remove safety routes: %w", err)
	}
	return nil
}

// SyncPeerRoutes makes the host-gw routes to other nodes' pod CIDRs equal
// peers (podCIDR → that node's address, which must be on a directly
// connected network): missing routes are added, changed ones replaced and
// tug peer routes not in peers removed. SyncPeerRoutes(nil) removes them
// all. It keeps going past a bad entry and returns every error.
func SyncPeerRoutes(peers map[netip.Prefix]netip.Addr) error {
	existing, err := tugRoutes()
	if err != nil {
		return fmt.Errorf("sync peer routes: %w", err)
	}
	var errs []error
	for _, r := range existing {
		if r.Type != unix.RTN_UNICAST || r.Gw == nil || r.Dst == nil {
			continue
		}
		dst, ok := prefixOf(r.Dst)
		if ok {
			if gw, has := peers[dst]; has && net.IP(gw.AsSlice()).Equal(r.Gw) {
				continue
			}
		}
		if err := netlink.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("delete %v via %v: %w", r.Dst, r.Gw, err))
		}
	}
	for cidr, gw := range peers {
		if !cidr.IsValid() || !cidr.Addr().Is4() || !gw.Is4() {
			errs = append(errs, fmt.Errorf("peer route %v via %v: need IPv4", cidr, gw))
			continue
		}
		if err := netlink.RouteReplace(&netlink.Route{
			Dst:      ipNet(cidr),
			Gw:       net.IP(gw.AsSlice()),
			Protocol: RouteProtocol,
			Table:    unix.RT_TABLE_MAIN,
		}); err != nil {
			errs = append(errs, fmt.Errorf("peer route %v via %v: %w", cidr, gw, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sync peer routes: %w", err)
	}
	return nil
}

// tugRoutes lists the IPv4 routes of the main table marked RouteProtocol.
func tugRoutes() ([]netlink.Route, error) {
	routes, err := netlink.RouteListFiltered(netlink.FAMILY_V4,
		&netlink.Route{Protocol: RouteProtocol, Table: unix.RT_TABLE_MAIN},
		netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	return routes, nil
}

// ensureSink makes name a device that drops every packet sent to it.
func ensureSink(name string) (netlink.Link, error) {
	link, err := netlink.LinkByName(name)
	if err != nil && !isLinkNotFound(err) {
		return nil, fmt.Errorf("find %s: %w", name, err)
	}
	if err == nil && link.Type() != "dummy" && link.Type() != "bridge" {
		return nil, fmt.Errorf("%s exists and is a %s, not a dummy device", name, link.Type())
	}
	if link == nil {
		attrs := netlink.LinkAttrs{Name: name}
		err := netlink.LinkAdd(&netlink.Dummy{LinkAttrs: attrs})
		if errors.Is(err, unix.EOPNOTSUPP) {
			// No dummy driver in this kernel: an empty bridge drops
			// what it sends too (there is no port to send it to).
			err = netlink.LinkAdd(&netlink.Bridge{LinkAttrs: attrs})
		}
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("add %s: %w", name, err)
		}
		if link, err = netlink.LinkByName(name); err != nil {
			return nil, fmt.Errorf("find %s: %w", name, err)
		}
	}
	if err := netlink.LinkSetARPOff(link); err != nil {
		return nil, fmt.Errorf("set %s arp off: %w", name, err)
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return nil, fmt.Errorf("set %s up: %w", name, err)
	}
	return link, nil
}

func isLinkNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf)
}

func ipNet(p netip.Prefix) *net.IPNet {
	p = p.Masked()
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	addr, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(addr.Unmap(), ones).Masked(), true
}
