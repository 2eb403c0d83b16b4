// Package tugproc runs the real tug binary for benchmarks: a `tug server`
// on free loopback ports in a given data directory, and any other tug
// process (agents), each stopped with SIGTERM by its process id, with the
// tail of its log for error reports and its memory from /proc.
package tugproc
