// Package manager runs tug's built-in controllers: it builds the clients,
// one shared informer factory and the event broadcaster, and runs every
// controller while this process holds the "tug-controller-manager" Lease in
// kube-system, so that several tug servers against one etcd run a single
// active set of control loops. It owns leader election and the controller
// list (controllers.go); the control loops themselves live in their own
// packages under pkg/controller.
package manager
