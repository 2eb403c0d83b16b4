// Package nodeipam owns the node IPAM controller: it splits the cluster's
// pod network (Options.PodCIDR) into per-node ranges of
// Options.NodeCIDRMaskSize bits (default /24) and writes one into the
// spec.podCIDR and spec.podCIDRs of every node that has none. Ranges of
// deleted nodes return to the pool; the pool is rebuilt from the nodes on
// every start, so nothing but the nodes holds state. When the pool is
// exhausted the node gets a CIDRNotAvailable Event and is retried.
//
// It writes only those two node fields, once per node.
package nodeipam
