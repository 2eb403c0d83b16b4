// Package pvcprotection is the PersistentVolumeClaim in-use protection
// controller ("pvc-protection-controller"), as in Kubernetes.
//
// The API server gives every new claim the finalizer
// kubernetes.io/pvc-protection, so deleting a claim only marks it
// (Terminating). The controller removes the finalizer once no pod of the
// claim's namespace uses it, and the API server then removes the claim.
//
// A pod uses a claim when one of its volumes names it (a
// persistentVolumeClaim volume by claimName, a generic ephemeral volume by
// the claim "<pod name>-<volume name>") and it has not terminated (phase
// Succeeded or Failed). A pod not scheduled yet counts as a user: the
// agent mounts a claim being deleted, so only the scheduler's refusal would
// keep such a pod away from it. Kubernetes ignores unscheduled pods and
// keeps counting terminated ones.
//
// Pods are found through an index of the shared pod informer by claim, and
// a live list of the namespace's pods confirms that none uses the claim
// before the finalizer goes. A live claim without the finalizer (created
// before admission added it) gets it; nothing else of a claim is changed.
package pvcprotection
