// Package bench holds tug's benchmarks; it has no code of its own.
//
// bench/apibench measures the API server in-process (over embedded etcd)
// with client-go: create, get, list, update and watch throughput and
// latency at several numbers of concurrent clients. It runs only with
// -bench (`make bench`).
//
// bench/cmd/serverload starts the real `tug server` binary on loopback
// ports and measures time to /readyz and resident memory, idle and with
// many objects stored.
//
// docs/benchmarks.md records the figures and the commands that produce
// them. Nothing here runs under a plain `go test`.
package bench
