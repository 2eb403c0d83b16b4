// Package daemonset runs the DaemonSet controller: one pod per eligible
// node (nodeSelector, required node affinity, taints against the template's
// tolerations plus the ones every daemon pod gets), each pinned to its node
// with a required node affinity on metadata.name so the scheduler places
// it; pods leave nodes that stop being eligible. Template changes roll out
// with RollingUpdate (maxUnavailable or maxSurge) or OnDelete, recorded as
// ControllerRevisions; the controller keeps the DaemonSet's status and
// emits Events.
//
// It talks to the cluster only through the API; it never binds pods itself.
package daemonset
