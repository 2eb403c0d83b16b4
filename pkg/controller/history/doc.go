// Package history keeps the ControllerRevisions of the workload
// controllers that record their pod template history (DaemonSet and
// StatefulSet): building a revision from a template, finding the one equal
// to the current template, creating it under a collision-free name,
// renumbering it on rollback and trimming old revisions.
//
// A revision's data is the strategic merge patch
// {"spec":{"template":{...,"$patch":"replace"}}}, which is what
// `kubectl rollout undo` applies to roll a workload back.
//
// It talks to the cluster only through the API and never touches pods.
package history
