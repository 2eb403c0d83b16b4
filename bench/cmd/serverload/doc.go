// Command serverload starts the real `tug server` binary on free loopback
// ports and measures what a user of the process sees: time from process
// start to /readyz answering "ok" (fresh and existing data directory),
// resident memory (VmRSS from /proc/<pid>/status) idle and with many small
// ConfigMaps stored, and the create rate while loading them.
//
// Usage (from the repository root, after `make build`):
//
//	go run ./bench/cmd/serverload -objects 100000
//
// The binary is $TUG_BIN (default bin/tug), or -bin. Every server it starts
// listens on 127.0.0.1 only, in a temporary data directory that is removed
// at the end; each is stopped with SIGTERM by its process id. The whole run
// is bounded by -timeout.
package main
