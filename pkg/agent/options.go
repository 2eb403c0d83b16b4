package agent

import (
	"context"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/tools/record"
	utilclock "k8s.io/utils/clock"

	"github.com/tugcluster/tug/pkg/agent/probes"
)

// KubeletVersion is the version the agent reports in nodeInfo.
const KubeletVersion = "v1.37.2-tug"

// LeaseNamespace holds node Leases.
const LeaseNamespace = "kube-node-lease"

// Defaults of Options.
const (
	DefaultMaxPods              = 110
	DefaultLeaseDuration        = 40 * time.Second
	DefaultLeaseRenewInterval   = 10 * time.Second
	DefaultStatusCheckInterval  = 10 * time.Second
	DefaultStatusReportInterval = time.Minute
	DefaultPodResyncInterval    = time.Minute
	DefaultBackoffInitial       = 10 * time.Second
	DefaultBackoffMax           = 5 * time.Minute
)

// Options configure one agent.
type Options struct {
	// NodeName is the Node's name (required).
	NodeName string
	// PodCIDR is written to spec.podCIDR when the Node has none.
	PodCIDR string
	// Capacity of the node; "pods" defaults to 110. Allocatable equals
	// capacity (no reservations yet).
	Capacity corev1.ResourceList
	// Labels are added to the Node next to kubernetes.io/hostname, os
	// and arch.
	Labels map[string]string
	// Addresses of the node; the first InternalIP is the pods' hostIP.
	Addresses []corev1.NodeAddress
	// SystemInfo overrides the detected kernel, OS image and architecture.
	SystemInfo *corev1.NodeSystemInfo
	// KubeletPort is where the agent's streaming API listens; the Node
	// publishes it as status.daemonEndpoints.kubeletEndpoint.port (10250).
	KubeletPort int32

	LeaseDuration       time.Duration
	LeaseRenewInterval  time.Duration
	StatusCheckInterval time.Duration // how often node status is recomputed
	// Health measures the node for its conditions each time the status
	// is checked (nil: always healthy, as simulated nodes are).
	Health               func(ctx context.Context) NodeHealth
	StatusReportInterval time.Duration // status is posted at least this often
	PodResyncInterval    time.Duration // every pod is re-examined this often
	BackoffInitial       time.Duration // first restart delay (10 s)
	BackoffMax           time.Duration // cap of the doubling restart delay (5 min)

	// Volumes prepares volumes and resolves container environments;
	// nil (simulated nodes) runs containers without either.
	Volumes VolumeManager

	// Workers is how many pods are synced in parallel (default 16): a sync
	// mostly waits on the runtime (shim start, CNI), so more parallel syncs
	// than cores shorten start-up of many pods.
	Workers int
	// Recorder records Events; nil makes one that writes core/v1 Events.
	Recorder record.EventRecorder
	Logger   *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// ProbeDialer dials httpGet, tcpSocket and grpc probes and hooks;
	// nil dials from the agent's own network namespace.
	ProbeDialer probes.DialFunc
	// ProbeClock schedules probe attempts; nil is the real clock.
	ProbeClock utilclock.WithDelayedExecution
	// SimulatedProbeNetwork makes network probes and hooks succeed
	// without dialing: simulated pod addresses exist only in the API.
	SimulatedProbeNetwork bool

	// externalPods: a Fleet feeds pods instead of a per-agent informer.
	externalPods bool
}

func (o *Options) setDefaults() {
	if o.Capacity == nil {
		o.Capacity = corev1.ResourceList{}
	} else {
		o.Capacity = o.Capacity.DeepCopy()
	}
	if _, ok := o.Capacity[corev1.ResourcePods]; !ok {
		o.Capacity[corev1.ResourcePods] = *resource.NewQuantity(DefaultMaxPods, resource.DecimalSI)
	}
	setDur := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	setDur(&o.LeaseDuration, DefaultLeaseDuration)
	setDur(&o.LeaseRenewInterval, DefaultLeaseRenewInterval)
	setDur(&o.StatusCheckInterval, DefaultStatusCheckInterval)
	setDur(&o.StatusReportInterval, DefaultStatusReportInterval)
	setDur(&o.PodResyncInterval, DefaultPodResyncInterval)
	setDur(&o.BackoffInitial, DefaultBackoffInitial)
	setDur(&o.BackoffMax, DefaultBackoffMax)
	if o.KubeletPort <= 0 {
		o.KubeletPort = 10250
	}
	if o.Workers <= 0 {
		o.Workers = 16
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}
