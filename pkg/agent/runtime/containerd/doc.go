// Package containerd implements runtime.Runtime on a containerd daemon
// through its Go client, with runc as the OCI runtime.
//
// It owns: connecting to (or starting and stopping) a containerd daemon,
// one containerd namespace (default "tug"), pod sandbox records and the
// per-pod /etc/hosts, /etc/hostname and /etc/resolv.conf files under the
// data directory, image pulls (registries.yaml mirrors and TLS settings,
// imagePullSecrets credentials), OCI specs derived from the pod's
// containers, container logs in the CRI file format, the stdin FIFO and
// output fan-out of attach sessions, exit and OOM tracking, exec and usage
// stats.
//
// It does not own pod networking: a SandboxNetwork is injected (the agent
// passes pkg/network; tests use LoopbackNetwork), and it never touches
// containers outside its namespace.
package containerd
