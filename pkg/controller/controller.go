package controller

import (
	"context"
	"log/slog"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/record"
)

// Context is what a controller is built from. All controllers of one
// manager share the informer factory, so each resource is listed and
// watched once per process.
type Context struct {
	Client kubernetes.Interface
	// Metadata reads and writes any resource as PartialObjectMetadata; the
	// garbage collector and the namespace controller use it for resources
	// they know only from discovery.
	Metadata  metadata.Interface
	Informers informers.SharedInformerFactory
	// Events returns the recorder of core/v1 Events (what kubectl describe
	// shows) for the named reporting component, e.g. "deployment-controller".
	Events func(component string) record.EventRecorder
	// Now is the clock; tests may replace it.
	Now func() time.Time
	// Options carries the tunables of controllers that have any.
	Options Options
	// Log is where controllers log (never nil).
	Log *slog.Logger
}

// Options are the controller tunables a server flag can set.
type Options struct {
	// PodEvictionTimeout: default tolerationSeconds for the not-ready and
	// unreachable taints (300 s as in Kubernetes).
	PodEvictionTimeout time.Duration
	// NodeMonitorGracePeriod: a node whose Lease is older is NotReady (40 s).
	NodeMonitorGracePeriod time.Duration
	// PodCIDR is the cluster pod network split into node podCIDRs.
	PodCIDR string
	// NodeCIDRMaskSize is the prefix length of each node's podCIDR (24:
	// 256 nodes in a /16; 26 gives 1024 nodes of 62 pods).
	NodeCIDRMaskSize int
	// HorizontalPodAutoscalerSyncPeriod is how often each
	// HorizontalPodAutoscaler is evaluated (15 s when zero).
	HorizontalPodAutoscalerSyncPeriod time.Duration
	// RootCA is the cluster CA (PEM) published into every namespace as
	// the kube-root-ca.crt ConfigMap; nil publishes nothing.
	RootCA []byte
	// Logger receives the controllers' logs (default slog.Default()).
	Logger *slog.Logger
}

// Controller is one control loop. Run starts its workers, blocks until ctx
// ends, and returns nil then; informers are started by the manager after
// every controller was constructed, so constructors only register handlers.
type Controller interface {
	Name() string
	Run(ctx context.Context, workers int) error
}

// Constructor builds a controller from the shared context.
type Constructor func(ctx *Context) (Controller, error)

// Clock returns Now, or time.Now when it is unset.
func (c *Context) Clock() func() time.Time {
	if c.Now == nil {
		return time.Now
	}
	return c.Now
}
