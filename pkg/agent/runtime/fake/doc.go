// Package fake is an in-memory runtime.Runtime for simulated nodes and
// tests. Nothing runs: sandboxes get an address from the node's pod CIDR,
// containers start at once and report Running until stopped, unless a
// knob tells them to fail.
//
// Knobs, by image name (substring match) or pod annotation:
//
//	image contains "fail-pull"        PullImage fails with runtime.ErrImagePull
//	image contains "crash"            the container exits with code 1 when started
//	image contains "oomkill"          the container is OOMKilled (exit code 137) when started
//	image contains "complete"         the container exits with code 0 when started
//	sim.tug.dev/exit-code: "N"        every app container exits with code N
//	sim.tug.dev/exit-code.NAME: "N"   container NAME (init or app) exits with N;
//	                                  the value "oom" means OOMKilled (137)
//	sim.tug.dev/exit-after: "30s"     the exits above happen this long after the
//	sim.tug.dev/exit-after.NAME: ...  start instead of at once (a running job)
//
// A per-container annotation wins over the pod-wide one, which wins over
// the image name. Containers otherwise handle SIGTERM and exit 0 when
// stopped.
//
// One Runtime is one node. Its memory is a few hundred bytes per sandbox
// and container, so thousands of simulated nodes fit in one process.
package fake
