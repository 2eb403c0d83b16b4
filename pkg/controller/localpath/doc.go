// Package localpath is tug's built-in dynamic provisioner of node-local
// volumes (provisioner name tug.dev/local-path).
//
// When it starts leading it makes sure the StorageClass "local-path"
// exists (WaitForFirstConsumer, reclaim policy Delete, marked default
// unless another class already is); an existing class is never changed, and
// a class deleted by the user comes back only at the next start.
//
// For a claim handed to tug.dev/local-path by the binder
// (pkg/controller/volumebinding) whose first pod was scheduled (annotation
// volume.kubernetes.io/selected-node) it creates the PersistentVolume
// "pvc-<claim uid>": a hostPath directory <path>/<volume name>
// (DirectoryOrCreate; path is the class parameter "path", default
// /var/lib/tug/storage) with required node affinity to the selected node,
// pre-bound to the claim; the binder then completes the binding. The
// directory itself is created by the agent when a pod mounts it, and
// removed with the volume by the agent's cleaner (pkg/agent/localpath) once
// the volume is Released under reclaim policy Delete.
package localpath
