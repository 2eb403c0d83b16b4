// Package realnode runs a real node on this machine: the containerd
// runtime, pod networking (pkg/network), volumes, the streaming API, the
// local-path cleaner and the agent, wired together in the calling
// process's network namespace. `tug agent` and the local agent of `tug
// server` both use it. It owns the agent's data directory layout and what
// the node installs on the host (bridge, safety and peer routes), which
// Cleanup removes again; it never touches the API server's state beyond
// what the agent itself writes.
package realnode
