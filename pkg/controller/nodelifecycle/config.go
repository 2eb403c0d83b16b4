package nodelifecycle

import (
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/tugcluster/tug/pkg/controller"
)

// Defaults, as in Kubernetes' kube-controller-manager.
const (
	DefaultGracePeriod            = 40 * time.Second
	DefaultStartupGracePeriod     = 60 * time.Second
	DefaultMonitorPeriod          = 5 * time.Second
	DefaultEvictionRate           = 0.1
	DefaultSecondaryEvictionRate  = 0.01
	DefaultUnhealthyZoneThreshold = 0.55
	DefaultLargeClusterThreshold  = 50
	DefaultOrphanQuarantine       = 40 * time.Second
	DefaultPodGCPeriod            = 20 * time.Second
)

// Config tunes the controller. Zero fields take the defaults above.
type Config struct {
	// GracePeriod: a node whose last heartbeat (Lease renewal or Ready
	// heartbeat) was observed longer ago is marked Unknown.
	GracePeriod time.Duration
	// StartupGracePeriod replaces GracePeriod for a node that never
	// posted a Ready condition.
	StartupGracePeriod time.Duration
	// MonitorPeriod is how often every node and the zone states are
	// re-evaluated.
	MonitorPeriod time.Duration
	// EvictionRate is how many nodes per second of a healthy zone may get
	// a NoExecute taint; SecondaryEvictionRate applies to a partially
	// disrupted zone larger than LargeClusterThreshold nodes (smaller
	// ones are not tainted at all).
	EvictionRate, SecondaryEvictionRate float64
	// UnhealthyZoneThreshold is the share of not-ready nodes (with more
	// than two of them) that makes a zone partially disrupted.
	UnhealthyZoneThreshold float64
	LargeClusterThreshold  int
	// OrphanQuarantine is how long a pod's node must be missing before the
	// pod is force-deleted; PodGCPeriod is how often pods are checked.
	OrphanQuarantine, PodGCPeriod time.Duration
	// NodeSelector limits the nodes this controller manages (nil: all).
	NodeSelector labels.Selector
}

func (c Config) withDefaults() Config {
	setDur := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	setDur(&c.GracePeriod, DefaultGracePeriod)
	setDur(&c.StartupGracePeriod, max(DefaultStartupGracePeriod, c.GracePeriod))
	setDur(&c.MonitorPeriod, min(DefaultMonitorPeriod, c.GracePeriod/4))
	setDur(&c.OrphanQuarantine, DefaultOrphanQuarantine)
	setDur(&c.PodGCPeriod, DefaultPodGCPeriod)
	if c.EvictionRate <= 0 {
		c.EvictionRate = DefaultEvictionRate
	}
	if c.SecondaryEvictionRate <= 0 {
		c.SecondaryEvictionRate = DefaultSecondaryEvictionRate
	}
	if c.UnhealthyZoneThreshold <= 0 {
		c.UnhealthyZoneThreshold = DefaultUnhealthyZoneThreshold
	}
	if c.LargeClusterThreshold <= 0 {
		c.LargeClusterThreshold = DefaultLargeClusterThreshold
	}
	if c.NodeSelector == nil {
		c.NodeSelector = labels.Everything()
	}
	return c
}

// New builds the controller from the manager's shared context; it is a
// controller.Constructor. It reads Options.NodeMonitorGracePeriod.
func New(c *controller.Context) (controller.Controller, error) {
	return NewWithConfig(Config{GracePeriod: c.Options.NodeMonitorGracePeriod})(c)
}
