// Package localpath is the node side of tug's local-path volumes: on each
// node it removes the directories of volumes provisioned by
// tug.dev/local-path (pkg/controller/localpath) for that node once they are
// Released under reclaim policy Delete, and then deletes the
// PersistentVolume objects.
//
// It removes only a directory that is exactly <base>/<volume name> for one
// of its configured base directories; a volume whose path is anywhere else
// is marked Failed and its files are left alone. It never follows symbolic
// links out of the volume directory. Creating the directories is not its
// business: the agent's volume code creates them (hostPath
// DirectoryOrCreate) when a pod mounts the volume.
package localpath
