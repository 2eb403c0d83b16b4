// Package apibench measures the API server in-process with client-go:
// create, get, list, update and watch of ConfigMaps at 1, 16 and 64
// concurrent clients, each client with its own HTTPS connection.
//
// The server (embedded etcd in a temporary directory, the API server and
// an HTTP/2 TLS listener on 127.0.0.1) starts on the first benchmark and
// stops when the test binary ends, so a plain `go test` starts nothing.
// Every benchmark reports ops/s and p50/p99 latency in milliseconds next to
// the standard ns/op (which is wall time divided by operations, i.e. the
// inverse of the throughput, not a single operation's latency).
package apibench
