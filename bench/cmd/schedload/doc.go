// Command schedload measures scheduling end to end through the real API:
// it starts the real `tug server` on free loopback ports, then
// `tug agent --simulate N` against it (token and CA from the server's data
// directory), waits for N Ready nodes, and creates pods — directly and
// through ReplicaSets, plain and with required pod anti-affinity on the
// host name between pods of one app — timing each from its creation to
// its binding as seen by a watch.
//
// Usage (from the repository root, after `make build`):
//
//	go run ./bench/cmd/schedload -nodes 500,5000 -pods 10000
//
// It prints, per node count and scenario, pods/s (first create to last
// binding) and create→bound latency quantiles, the agent's and server's
// memory, and how far behind node Leases fell (nodes are marked Unknown
// after 40 s without renewal). The server runs without its local agent, with
// a /10 pod network and /24 per node (16,384 nodes). Everything listens on 127.0.0.1 only; both
// processes are stopped by process id and the temporary directories
// removed; every wait is bounded (-scenario-timeout, -timeout).
package main
