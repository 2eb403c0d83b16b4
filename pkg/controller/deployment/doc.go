// Package deployment owns the Deployment controller. A Deployment never
// manages pods itself: it owns ReplicaSets, one per distinct pod template
// (named <deployment>-<pod-template-hash>), and moves replicas from the
// old ones to the new one according to its strategy (RollingUpdate within
// maxSurge/maxUnavailable, or Recreate), keeping revision history,
// conditions (Available, Progressing, ReplicaFailure) and status counts.
//
// It writes only ReplicaSets (create, scale, annotate, delete old ones)
// and the Deployment's status; pods are the replicaset controller's.
package deployment
