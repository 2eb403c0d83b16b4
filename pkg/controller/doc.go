// Package controller holds what every controller shares: the Context a
// controller is built from and the Controller interface the manager runs.
// Each controller lives in its own sub-package (replicaset, deployment,
// namespace, ...) and talks to the cluster only through the API (client-go
// clients and shared informers), never to storage.
package controller
