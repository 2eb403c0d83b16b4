// Package scheduler assigns pending pods to nodes.
//
// It owns the scheduling queue (priority order, back-off, parking of
// unschedulable pods until the cluster changes), the in-memory node snapshot
// (kept current from informer events, with pods assumed on a node until the
// informer confirms the binding), the filter pipeline that explains a failure
// in one sentence, the scores, preemption (which respects PodDisruptionBudgets
// where it can), and binding through pods/binding.
//
// It talks to the cluster only through the API (client-go clients and shared
// informers). It must not touch storage, and it never changes a pod's spec
// except through the binding subresource.
package scheduler
