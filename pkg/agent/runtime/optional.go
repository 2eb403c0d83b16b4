package runtime

import (
	"context"
	"io"
	"time"
)

// ExitNotifier is implemented by runtimes that can tell when a container
// exits on its own (a crash, a completed job). Without it the agent only
// notices exits when it next looks at the pod.
type ExitNotifier interface {
	// NotifyExits registers fn, called with the sandbox and container ID
	// of each container that exits after registration. fn must not block.
	NotifyExits(fn func(sandboxID, containerID string))
}

// Execer runs a command in a running container and collects its output;
// exec probes and `kubectl exec` without a terminal use it.
type Execer interface {
	ExecSync(ctx context.Context, containerID string, cmd []string, timeout time.Duration) (ExecResult, error)
}

// ExecResult is a finished command's outcome.
type ExecResult struct {
	ExitCode int32
	Stdout   []byte
	Stderr   []byte
}

// LogReader streams a container's output.
type LogReader interface {
	ContainerLogs(ctx context.Context, containerID string, opts LogOptions, w io.Writer) error
}

// LogOptions selects which log lines to return.
type LogOptions struct {
	Follow     bool
	TailLines  int64 // <0: all
	Since      time.Time
	Timestamps bool
}

// StatsProvider reports resource usage.
type StatsProvider interface {
	ContainerStats(ctx context.Context, containerID string) (Stats, error)
}

// Stats is a container's usage at one instant.
type Stats struct {
	Timestamp          time.Time
	CPUUsageNanoCores  uint64
	MemoryWorkingBytes uint64
}

// ForcePuller is implemented by runtimes that keep images: ForcePullImage
// asks the registry again even when ref is present locally, and returns
// the (possibly new) image ID. The agent uses it for imagePullPolicy
// Always; runtimes without it get PullImage.
type ForcePuller interface {
	ForcePullImage(ctx context.Context, ref string, auth *Auth) (imageID string, err error)
}
