// Package namespace is the namespace controller: it empties namespaces that
// are being deleted and then lets the API server remove them.
//
// Deleting a namespace makes the API server set its deletionTimestamp and
// phase Terminating while spec.finalizers still holds "kubernetes". For such
// a namespace the controller deletes, through the metadata client, every
// namespaced resource that discovery lists with the delete and list verbs
// (deletecollection where served, else one by one, with background
// propagation), records progress in the namespace's status conditions
// (NamespaceDeletionDiscoveryFailure, NamespaceDeletionGroupVersionParsingFailure,
// NamespaceDeletionContentFailure, NamespaceContentRemaining,
// NamespaceFinalizersRemaining) and retries with back-off while anything
// remains. When the namespace is empty it PUTs namespaces/NAME/finalize
// without "kubernetes"; the API server then deletes the namespace once no
// finalizer is left.
//
// Pods bound to a node get their grace period: the node's agent stops them
// and deletes them. A pod whose grace period is over and whose node has no
// Node object is force-deleted (grace period 0), as Kubernetes' pod garbage
// collector does for pods of vanished nodes; otherwise nothing would ever
// remove it. Pods on a node that exists but whose agent is down stay
// Terminating, as in Kubernetes.
//
// The controller never edits other objects' finalizers and never deletes a
// namespace itself; which namespaces may be deleted is the API server's rule.
package namespace
