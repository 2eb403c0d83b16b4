package runtime

import (
	"context"
	"errors"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Sentinel error kinds. Implementations wrap them with context
// (fmt.Errorf("pull %s: %w", ref, ErrImagePull)); callers classify with
// errors.Is.
var (
	// ErrNotFound: no sandbox, container or image with that ID.
	ErrNotFound = errors.New("not found")
	// ErrImagePull: the image could not be fetched (registry unreachable,
	// unknown repository or tag, refused credentials).
	ErrImagePull = errors.New("image pull failed")
	// ErrInvalidImageName: the reference cannot be parsed.
	ErrInvalidImageName = errors.New("invalid image name")
	// ErrCreateContainer: the container could not be created from a
	// valid image (bad command, bad mount).
	ErrCreateContainer = errors.New("create container failed")
)

// Runtime runs pod sandboxes and their containers. Every method is safe
// for concurrent use. Calls for one pod are serialized by the agent; calls
// for different pods may run in parallel.
//
// Stop and Remove methods are idempotent: stopping a stopped container or
// removing a missing one returns nil, so a worker can repeat a teardown
// after a crash of its own.
type Runtime interface {
	// RunPodSandbox creates and starts the pod's sandbox (network
	// namespace, pod address) and returns it. It does not start any
	// container.
	RunPodSandbox(ctx context.Context, pod *corev1.Pod) (Sandbox, error)
	// StopPodSandbox stops every container left in the sandbox at once
	// and releases its network (the address returns to the pool).
	StopPodSandbox(ctx context.Context, sandboxID string) error
	// RemovePodSandbox removes a stopped sandbox and its containers.
	RemovePodSandbox(ctx context.Context, sandboxID string) error
	// ListPodSandboxes returns every sandbox this runtime holds, so an
	// agent that restarts adopts what it started before.
	ListPodSandboxes(ctx context.Context) ([]Sandbox, error)

	// PullImage makes ref available locally and returns its image ID
	// (a digest, e.g. "sha256:…"). auth may be nil.
	PullImage(ctx context.Context, ref string, auth *Auth) (imageID string, err error)

	// CreateContainer creates (without starting) a container in a sandbox.
	CreateContainer(ctx context.Context, sandboxID string, cfg ContainerConfig) (containerID string, err error)
	// StartContainer starts a created container.
	StartContainer(ctx context.Context, containerID string) error
	// StopContainer asks the container to stop (SIGTERM), waits up to
	// grace, then kills it. It returns once the container has exited.
	StopContainer(ctx context.Context, containerID string, grace time.Duration) error
	// RemoveContainer removes an exited container.
	RemoveContainer(ctx context.Context, containerID string) error
	// ListContainers returns the containers of one sandbox, any state.
	ListContainers(ctx context.Context, sandboxID string) ([]ContainerStatus, error)
	// ContainerStatus reports one container's current state.
	ContainerStatus(ctx context.Context, containerID string) (ContainerStatus, error)

	// Version names the runtime for the node's nodeInfo.
	Version(ctx context.Context) (Version, error)
}

// Sandbox is a pod's isolation unit: today a network namespace with one
// address from the node's pod CIDR.
type Sandbox struct {
	ID        string
	PodUID    string
	Namespace string
	Name      string
	// IP is the pod address ("" for host-network pods, whose address is
	// the node's).
	IP        string
	State     SandboxState
	CreatedAt time.Time
}

// SandboxState is whether a sandbox's network is up.
type SandboxState string

const (
	SandboxReady    SandboxState = "Ready"
	SandboxNotReady SandboxState = "NotReady"
)

// ContainerConfig is what CreateContainer needs. Pod and Container are
// the API objects (read-only); the runtime derives command, limits and
// security settings from them. Env and Mounts are resolved by the agent
// (ConfigMap and Secret references, downward API, volumes set up on the
// node); a runtime never reads env or volumes from the pod itself.
type ContainerConfig struct {
	Pod       *corev1.Pod
	Container *corev1.Container
	// Attempt counts restarts of this container name in this sandbox,
	// starting at 0; it keeps names of successive instances distinct.
	Attempt int
	// ImageID is what PullImage returned.
	ImageID string
	// Init marks an init container.
	Init bool
	// Env is the container's environment as NAME=value, overlaid on the
	// image's; $(VAR) references in command and args expand against it.
	Env []string
	// Mounts are the container's volume mounts as host paths.
	Mounts []Mount
}

// Mount is one bind mount of a host path into a container.
type Mount struct {
	HostPath      string
	ContainerPath string
	ReadOnly      bool
	// Propagation: None (or empty) = rprivate, HostToContainer = rslave,
	// Bidirectional = rshared.
	Propagation corev1.MountPropagationMode
}

// Auth is registry credentials from the pod's imagePullSecrets.
type Auth struct {
	Username      string
	Password      string
	IdentityToken string
	RegistryToken string
}

// ContainerState is a container's life-cycle state.
type ContainerState string

const (
	ContainerCreated ContainerState = "Created"
	ContainerRunning ContainerState = "Running"
	ContainerExited  ContainerState = "Exited"
	ContainerUnknown ContainerState = "Unknown"
)

// Reasons a runtime reports for an exited container.
const (
	ReasonCompleted = "Completed" // exit code 0
	ReasonError     = "Error"     // non-zero exit code
	ReasonOOMKilled = "OOMKilled" // killed by the kernel's OOM killer
)

// ContainerStatus is one container's state and identity.
type ContainerStatus struct {
	ID        string
	SandboxID string
	// Name and Attempt are the container's name in the pod spec and the
	// ContainerConfig.Attempt it was created with.
	Name    string
	Attempt int
	Init    bool
	Image   string
	ImageID string
	State   ContainerState
	// ExitCode, Reason and Message are set once State is Exited.
	ExitCode   int32
	Reason     string
	Message    string
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
}

// Version identifies a runtime, e.g. {"containerd", "1.6.20"}; the node
// reports it as "containerd://1.6.20".
type Version struct {
	RuntimeName    string
	RuntimeVersion string
}

// String is the nodeInfo.containerRuntimeVersion form.
func (v Version) String() string { return v.RuntimeName + "://" + v.RuntimeVersion }

// StreamExecer runs a command in a running container with its standard
// streams connected to the caller (`kubectl exec`). It returns the
// command's exit code once the process has exited and its output has been
// copied; a non-nil error means the command could not be run.
type StreamExecer interface {
	Exec(ctx context.Context, containerID string, opts ExecOptions) (exitCode int32, err error)
}

// ExecOptions describe one interactive command.
type ExecOptions struct {
	Cmd []string
	// Stdin is nil for no standard input; its EOF closes the process's
	// standard input.
	Stdin  io.Reader
	Stdout io.Writer // nil: discard
	Stderr io.Writer // nil: discard; unused with TTY (the terminal merges both)
	TTY    bool
	// Resize delivers terminal size changes while TTY is set; nil when
	// the caller never resizes. It is closed when the caller goes away.
	Resize <-chan TerminalSize
	// Timeout kills the process after this long (0: until ctx ends).
	Timeout time.Duration
}

// Attacher connects the caller to the standard streams of a container's
// main process (`kubectl attach`). It returns when the caller's streams
// end or the container exits.
type Attacher interface {
	Attach(ctx context.Context, containerID string, opts AttachOptions) error
}

// AttachOptions are the streams of one attach session.
type AttachOptions struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	TTY    bool
	Resize <-chan TerminalSize
}

// TerminalSize is a terminal's width and height in characters.
type TerminalSize struct {
	Width, Height uint16
}
