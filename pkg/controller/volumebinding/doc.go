// Package volumebinding is the PersistentVolume binder: it pairs
// PersistentVolumeClaims with PersistentVolumes and keeps both sides of the
// binding and their phases consistent, as the Kubernetes PV controller does.
//
// A claim binds to the smallest available volume that satisfies it
// (storage class, access modes, capacity, volume mode, label selector), or
// to the volume it or a volume's claimRef names. Claims of a
// WaitForFirstConsumer class wait for the scheduler's selected-node
// annotation and then bind only to volumes whose node affinity allows that
// node. When nothing matches and the class names a provisioner, the claim
// is annotated with volume.kubernetes.io/storage-provisioner for that
// provisioner (such as pkg/controller/localpath) to create a volume
// pre-bound to it.
//
// When a bound claim goes away its volume becomes Released and the reclaim
// policy applies: Retain keeps it Released, Delete is left to the volume's
// provisioner (a volume without one is marked Failed), Recycle is not
// supported and marks the volume Failed.
//
// A claim without storageClassName is treated as if it named the cluster's
// default StorageClass, which is what the DefaultStorageClass admission (and
// retroactive default assignment) would have written into it.
//
// The package owns only the binding protocol; it never creates or deletes
// volumes nor touches storage on nodes.
package volumebinding
