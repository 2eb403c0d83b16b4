// Package network owns a node's pod networking: the per-pod network
// namespaces (bind-mounted files under a directory the agent chooses), the
// CNI calls that give a pod its address on the node bridge (libcni with the
// standard bridge, host-local and portmap plugins; lo is brought up without
// a plugin), and the node
// routes that keep cluster traffic on the machine (an unreachable route for
// the pod CIDR, the service CIDR on a dummy interface, host-gw routes to
// peers' pod CIDRs).
//
// Everything acts in the network namespace of the calling process: the agent
// runs in the node's namespace (a test host in end-to-end tests). The package
// does not touch containers, Services (pkg/proxy) or DNS (pkg/dns).
package network
