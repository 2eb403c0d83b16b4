// Package statefulset runs the StatefulSet controller: pods with stable
// identities <set>-<ordinal> (from spec.ordinals.start), hostname and
// subdomain from serviceName, and PersistentVolumeClaims
// <claim>-<set>-<ordinal> from volumeClaimTemplates created before their
// pod and owned as persistentVolumeClaimRetentionPolicy says. OrderedReady
// sets create pods in ordinal order, each waiting for the previous to be
// Running and Ready, and remove them in reverse order one at a time;
// Parallel sets do both at once. Template changes roll out from the
// highest ordinal down to the partition, one pod at a time (RollingUpdate),
// or when the user deletes pods (OnDelete), tracked with
// ControllerRevisions (currentRevision, updateRevision). The controller
// keeps the set's status and emits Events.
//
// It talks to the cluster only through the API and never binds pods.
package statefulset
