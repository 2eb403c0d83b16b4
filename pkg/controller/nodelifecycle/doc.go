// Package nodelifecycle owns the node lifecycle controller: it decides
// when a node stopped reporting (its Lease in kube-node-lease and its Ready
// heartbeat both older than the grace period), marks the node's conditions
// Unknown, keeps the condition taints (not-ready, unreachable, pressure,
// network-unavailable, unschedulable) in line with the conditions, evicts
// pods from nodes with NoExecute taints they do not tolerate (at once, or
// when their tolerationSeconds run out), rate-limits the tainting of nodes
// per zone, and garbage-collects pods bound to nodes that no longer exist.
//
// It writes node status conditions, node spec taints, pod status (the Ready
// and DisruptionTarget conditions) and deletes pods. It never touches a
// node's other fields nor a pod's spec.
package nodelifecycle
