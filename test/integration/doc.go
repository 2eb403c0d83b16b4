// Package integration runs the real API server in-process over an embedded
// etcd and drives it with client-go and raw HTTP, as users' tools would.
package integration
