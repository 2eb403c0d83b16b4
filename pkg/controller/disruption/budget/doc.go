// Package budget holds the PodDisruptionBudget rules that both the
// disruption controller and the API server's eviction subresource apply:
// which pods a budget covers, what counts as a healthy pod, how long an
// eviction's entry in status.disruptedPods stands, and the
// DisruptionAllowed condition.
//
// It depends only on API types, so the API server can use it without
// pulling in controller machinery; it reads and writes nothing itself.
package budget
