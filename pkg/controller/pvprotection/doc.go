// Package pvprotection is the PersistentVolume in-use protection controller
// ("pv-protection-controller"), as in Kubernetes.
//
// The API server gives every new volume the finalizer
// kubernetes.io/pv-protection, so deleting a volume only marks it
// (Terminating). The controller removes the finalizer once the volume's
// phase is not Bound, and the API server then removes the volume. The
// binder (pkg/controller/volumebinding) keeps the phase of a deleted
// volume current: it becomes Released when its claim goes. A live volume
// without the finalizer (created before admission added it) gets it;
// nothing else of a volume is changed.
package pvprotection
