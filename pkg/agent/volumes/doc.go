// Package volumes prepares the volumes of the pods bound to a node and
// turns a container's volumeMounts into bind mounts for the runtime.
//
// It owns the directory tree <RootDir>/<pod-uid>/volumes/<plugin>/<name>
// (RootDir is <agent-data-dir>/pods): emptyDir directories and tmpfs
// mounts, configMap, secret, downwardAPI and projected contents written
// atomically, and the tmpfs mounts that keep secrets off disk. hostPath
// and persistentVolumeClaim volumes (hostPath and local PVs) are not
// copied: their host paths are checked and handed out as they are.
//
// It also resolves a container's environment (ResolveEnv): values with
// $(VAR) expansion, downward API fields, ConfigMap and Secret keys, envFrom
// and the service link variables.
//
// ConfigMaps, Secrets, PVCs and PVs are read with a GET through the
// kubernetes.Interface each time a pod is set up and at every resync; the
// package keeps no cache of API objects. Projected service account tokens
// come from the TokenRequest API and are cached per pod until they are due
// for renewal (80 % of their lifetime, or a day).
//
// The package must not import the agent, the runtime implementations, the
// API server or storage: the agent calls it from its pod workers.
package volumes
