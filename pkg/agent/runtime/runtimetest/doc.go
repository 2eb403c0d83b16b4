// Package runtimetest is the conformance suite every runtime.Runtime
// implementation passes: sandbox life cycle and addresses, image pulls,
// container life cycle, listing for adoption after a restart, idempotent
// teardown and error kinds. Implementation-specific behaviour (the fake's
// failure knobs, cgroups of the real runtime) is tested next to each
// implementation.
package runtimetest
