// Package disruption owns the disruption controller: it computes the
// status of every PodDisruptionBudget (expectedPods, currentHealthy,
// desiredHealthy, disruptionsAllowed, observedGeneration and the
// DisruptionAllowed condition) from the pods the budget selects and the
// scale of their controllers (ReplicaSet, Deployment through its
// ReplicaSet, StatefulSet), and expires the status.disruptedPods entries
// that the eviction subresource adds.
//
// It writes only PodDisruptionBudget status (and Events). The decision
// whether one eviction may proceed belongs to the API server's eviction
// subresource; the rules both sides share live in the budget sub-package.
package disruption
