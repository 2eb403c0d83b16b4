// Package replicaset owns the ReplicaSet controller: it keeps
// spec.replicas pods matching a ReplicaSet's selector alive, adopting
// orphans and releasing pods that stopped matching, and reports
// status.replicas, fullyLabeledReplicas, readyReplicas, availableReplicas
// and the ReplicaFailure condition.
//
// It also exports the small pieces the deployment controller shares with
// it: ownership claiming (Claim, ControllerRef) and the pod predicates
// (IsPodReady, IsPodAvailable, IsPodActive).
//
// It never writes to a pod's spec or status; pods are created, patched
// (ownerReferences only) and deleted through the API.
package replicaset
