// Package latency runs a bounded number of operations over concurrent
// workers and summarises how long each took (quantiles, throughput). It is
// shared by tug's in-process benchmarks and by the server load program.
package latency
