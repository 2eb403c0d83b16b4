// Package garbagecollector deletes objects whose owners are gone and
// carries out foreground and orphan deletion, following ownerReferences
// as Kubernetes' garbage collector does.
//
// # What it watches
//
// At start the collector asks discovery for every resource that serves
// list, watch and delete (events excluded) and runs one metadata informer
// per resource (PartialObjectMetadata, stripped by a transform to name,
// namespace, uid, resourceVersion, deletionTimestamp, ownerReferences and
// finalizers, so the cache costs little per object). Each informer indexes
// its objects by the UIDs of their owners; the "dependents" of an object
// are found through that index across all informers. The set of resources
// is fixed for the life of the collector (tug serves no custom resources).
//
// # Work items
//
// A work item is one object (resource, namespace, name). It is queued when
// it appears with ownerReferences or with a deletion finalizer, when its
// ownerReferences, deletionTimestamp or finalizers change, and when one of
// its owners or dependents is deleted or starts being deleted. The sync of
// an item reads the object from the cache and does one of three things:
//
//   - The object is being deleted and carries the "orphan" finalizer: every
//     dependent loses its ownerReference to the object (a merge patch with
//     the dependent's resourceVersion, so concurrent edits are not lost),
//     then the finalizer is removed and the API server completes the
//     deletion.
//   - The object is being deleted and carries "foregroundDeletion": every
//     dependent that is not yet being deleted is queued (its own sync
//     deletes it, see below). Once no dependent with blockOwnerDeletion=true
//     remains in the cache, the finalizer is removed. Dependents'
//     deletions queue the owner again.
//   - The object has ownerReferences and is not being deleted: each owner
//     is classified as solid (exists), waiting (exists, being deleted in
//     the foreground) or dangling (no object with that name and UID). An
//     owner missing from the cache is confirmed with a live GET before it
//     counts as dangling, so a lagging cache never causes a deletion. With
//     at least one solid owner, references to dangling and waiting owners
//     are removed and the object stays. Otherwise the object is deleted
//     (UID precondition): in the foreground when an owner is waiting and
//     the object has dependents of its own, in the background otherwise.
//
// References the collector cannot resolve (a kind no resource serves, or a
// namespaced owner named by a cluster-scoped object) count as solid: the
// collector never deletes on uncertainty. The latter is reported with an
// OwnerRefInvalidNamespace warning event, as in Kubernetes.
//
// Background deletion needs nothing special: the owner disappears at once,
// its delete notification queues its dependents, and they are found
// dangling. Objects that became orphans while no collector ran are found
// when the informers list them at start.
package garbagecollector
