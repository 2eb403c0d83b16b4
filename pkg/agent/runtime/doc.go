// Package runtime defines what the agent's pod workers need from a
// container runtime: pod sandboxes (a network namespace with an address),
// images, and containers inside a sandbox. The interface is owned here, by
// its consumer; implementations live in sub-packages (containerd for real
// machines, fake for simulated nodes) and all of them pass the conformance
// suite in runtimetest.
//
// Optional abilities (exec, logs, stats, exit notifications) are separate
// small interfaces that callers discover with a type assertion, so a
// runtime implements only what it can.
//
// This package holds types and contracts only; it must not import the
// agent or any implementation.
package runtime
