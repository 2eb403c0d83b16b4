// Package agent is tug's node agent: it registers a Node, renews its
// Lease in kube-node-lease, reports node status, and runs the pods bound
// to the node through a runtime.Runtime, reporting their status and
// Events and finishing their deletion.
//
// One Agent is one node. A Fleet runs many simulated nodes in one process
// over one shared pod informer (tug agent --simulate).
//
// The agent talks only to the API server (through a kubernetes.Interface)
// and to its runtime; it must not import the API server, storage or the
// runtime implementations.
package agent
