// Package controller holds what every controller shares: the Context a
// controller is built from, the Controller interface the manager runs, and
// the plumbing of the informer → work queue → sync loop (Queue, Run,
// RunWorkers, AddHandlers), owner lookups (ResolveControllerRef,
// Selecting) and Expectations of writes not yet seen in the cache.
// Each controller lives in its own sub-package (replicaset, deployment,
// namespace, ...) with its own logic, and talks to the cluster only through
// the API (client-go clients and shared informers), never to storage.
package controller
