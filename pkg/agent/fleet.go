package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/netip"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// SimLabel marks simulated nodes.
const SimLabel = "sim.tug.dev/simulated"

// FleetOptions configure a set of simulated nodes.
type FleetOptions struct {
	// Count of nodes, named Prefix0 … Prefix<Count-1> ("sim-" by default).
	Count  int
	Prefix string
	// Capacity of each node.
	Capacity corev1.ResourceList
	// PodPool is split into one /24 per node, in index order. Nil picks
	// DefaultSimPodPool(Count).
	PodPool netip.Prefix
	// NewRuntime builds each node's runtime from its pod CIDR.
	NewRuntime func(node string, podCIDR netip.Prefix) (runtime.Runtime, error)
	// Template is copied into each agent's Options (intervals, workers,
	// logger); NodeName, PodCIDR, Capacity, Addresses and Labels are set
	// per node.
	Template Options
}

// DefaultSimPodPool is 10.42.0.0/16 (256 nodes of /24) up to 256 nodes,
// and 10.64.0.0/10 (16384 nodes) beyond.
func DefaultSimPodPool(count int) netip.Prefix {
	if count <= 256 {
		return netip.MustParsePrefix("10.42.0.0/16")
	}
	return netip.MustParsePrefix("10.64.0.0/10")
}

// NodePodCIDR is the index-th /24 of pool.
func NodePodCIDR(pool netip.Prefix, index int) (netip.Prefix, error) {
	if pool.Bits() > 24 || index < 0 || index >= 1<<(24-pool.Bits()) {
		return netip.Prefix{}, fmt.Errorf("pod pool %s has no /24 number %d", pool, index)
	}
	base := new(big.Int).SetBytes(pool.Masked().Addr().AsSlice())
	base.Add(base, big.NewInt(int64(index)<<8))
	var b [4]byte
	base.FillBytes(b[:])
	return netip.PrefixFrom(netip.AddrFrom4(b), 24), nil
}

// simNodeAddress is a loopback address per simulated node (127.1.x.y),
// so pods get a distinct hostIP that can never leave the machine.
func simNodeAddress(index int) string {
	return fmt.Sprintf("127.%d.%d.%d", 1+index>>16, (index>>8)&255, index&255)
}

// Fleet runs simulated nodes over one pod informer and one event
// broadcaster; each node still has its own Node, Lease, heartbeat,
// work queue and runtime.
type Fleet struct {
	client kubernetes.Interface
	agents map[string]*Agent
	order  []*Agent
	logger *slog.Logger
}

// NewFleet builds the agents of a fleet.
func NewFleet(client kubernetes.Interface, opts FleetOptions) (*Fleet, error) {
	if opts.Count <= 0 {
		return nil, errors.New("fleet: count must be positive")
	}
	if opts.NewRuntime == nil {
		return nil, errors.New("fleet: NewRuntime is required")
	}
	if opts.Prefix == "" {
		opts.Prefix = "sim-"
	}
	if !opts.PodPool.IsValid() {
		opts.PodPool = DefaultSimPodPool(opts.Count)
	}
	f := &Fleet{client: client, agents: make(map[string]*Agent, opts.Count), logger: opts.Template.Logger}
	if f.logger == nil {
		f.logger = slog.New(slog.DiscardHandler)
	}
	for i := 0; i < opts.Count; i++ {
		name := fmt.Sprintf("%s%d", opts.Prefix, i)
		cidr, err := NodePodCIDR(opts.PodPool, i)
		if err != nil {
			return nil, fmt.Errorf("fleet: %w", err)
		}
		rt, err := opts.NewRuntime(name, cidr)
		if err != nil {
			return nil, fmt.Errorf("fleet: runtime of %s: %w", name, err)
		}
		o := opts.Template
		o.NodeName, o.PodCIDR, o.Capacity = name, cidr.String(), opts.Capacity
		o.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: simNodeAddress(i)}}
		o.Labels = map[string]string{SimLabel: "true"}
		for k, v := range opts.Template.Labels {
			o.Labels[k] = v
		}
		o.externalPods = true
		o.SimulatedProbeNetwork = true
		if o.Workers <= 0 {
			o.Workers = 1
		}
		a, err := New(client, rt, o)
		if err != nil {
			return nil, err
		}
		f.agents[name] = a
		f.order = append(f.order, a)
	}
	return f, nil
}

// Agent returns the agent of a node, or nil.
func (f *Fleet) Agent(name string) *Agent { return f.agents[name] }

// Run starts every node, then one informer over all bound pods, and
// returns when ctx ends.
func (f *Fleet) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b := record.NewBroadcaster(record.WithContext(ctx))
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: f.client.CoreV1().Events("")})
	defer b.Shutdown()
	errs := make(chan error, len(f.order))
	var wg sync.WaitGroup
	for _, a := range f.order {
		if a.rec == nil {
			a.rec = b.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "kubelet", Host: a.opts.NodeName})
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.Run(ctx); err != nil && ctx.Err() == nil {
				errs <- fmt.Errorf("node %s: %w", a.opts.NodeName, err)
				cancel()
			}
		}()
	}
	defer func() { cancel(); wg.Wait() }()
	for _, a := range f.order {
		select {
		case <-a.Ready():
		case <-ctx.Done():
			return firstErr(errs)
		}
	}
	// One watch for every pod bound to a node; pods of other nodes are
	// dropped by the dispatcher.
	selector := fields.OneTermNotEqualSelector("spec.nodeName", "").String()
	factory := informers.NewSharedInformerFactoryWithOptions(f.client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = selector }))
	inf := factory.Core().V1().Pods().Informer()
	reg, err := inf.AddEventHandler(podHandler(f.Agent))
	if err != nil {
		return fmt.Errorf("fleet pod informer: %w", err)
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	// The handler's HasSynced: the first list has reached every agent.
	if cache.WaitForCacheSync(ctx.Done(), reg.HasSynced) {
		for _, a := range f.order {
			a.podsSynced()
		}
		f.logger.Info("simulated nodes running", "count", len(f.order))
	}
	<-ctx.Done()
	return firstErr(errs)
}

func firstErr(errs chan error) error {
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}
