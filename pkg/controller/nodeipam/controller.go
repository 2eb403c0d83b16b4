package nodeipam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"github.com/tugcluster/tug/pkg/controller"
)

// Name is the controller's name and the reporting component of its Events.
const Name = "node-ipam-controller"

// Defaults when Options leave them empty.
const (
	DefaultPodCIDR  = "10.42.0.0/16"
	DefaultMaskSize = 24
)

// Controller gives every node a podCIDR.
type Controller struct {
	client kubernetes.Interface
	nodes  corelisters.NodeLister
	synced cache.InformerSynced
	queue  workqueue.TypedRateLimitingInterface[string]
	events record.EventRecorder
	log    *slog.Logger

	mu       sync.Mutex
	set      *cidrSet
	assigned map[string]netip.Prefix // node → range this controller gave it
}

// New is a controller.Constructor; it reads Options.PodCIDR and
// Options.NodeCIDRMaskSize.
func New(c *controller.Context) (controller.Controller, error) {
	cidr := c.Options.PodCIDR
	if cidr == "" {
		cidr = DefaultPodCIDR
	}
	base, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("%s: pod CIDR: %w", Name, err)
	}
	mask := c.Options.NodeCIDRMaskSize
	if mask == 0 {
		mask = DefaultMaskSize
		if base.Addr().Is6() {
			mask = 64
		}
	}
	set, err := newCIDRSet(base, mask)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	inf := c.Informers.Core().V1().Nodes()
	ic := &Controller{
		client:   c.Client,
		nodes:    inf.Lister(),
		synced:   inf.Informer().HasSynced,
		queue:    controller.NewRateLimitingQueue[string]("nodeipam"),
		events:   c.Events(Name),
		log:      c.Log.With("controller", Name),
		set:      set,
		assigned: map[string]netip.Prefix{},
	}
	if _, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    ic.nodeChanged,
		UpdateFunc: func(_, cur any) { ic.nodeChanged(cur) },
		DeleteFunc: ic.nodeDeleted,
	}); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	return ic, nil
}

// Name implements controller.Controller.
func (ic *Controller) Name() string { return Name }

// Run implements controller.Controller. The pool is rebuilt from the
// nodes' podCIDRs before any node gets a new range.
func (ic *Controller) Run(ctx context.Context, workers int) error {
	if !controller.WaitForSync(ctx, ic.synced) {
		ic.queue.ShutDown()
		return nil
	}
	nodes, err := ic.nodes.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("%s: list nodes: %w", Name, err)
	}
	ic.mu.Lock()
	for _, n := range nodes {
		if p, ok := nodeCIDR(n); ok {
			if err := ic.set.occupy(p); err != nil {
				ic.log.Warn("node podCIDR outside the pool", "node", n.Name, "podCIDR", p, "err", err)
			}
		}
	}
	ic.mu.Unlock()
	controller.RunWorkers(ctx, ic.log, ic.queue, workers, ic.sync)
	return nil
}

// nodeCIDR is the node's first podCIDR, if it has a valid one.
func nodeCIDR(n *corev1.Node) (netip.Prefix, bool) {
	s := n.Spec.PodCIDR
	if s == "" && len(n.Spec.PodCIDRs) > 0 {
		s = n.Spec.PodCIDRs[0]
	}
	p, err := netip.ParsePrefix(s)
	return p, err == nil
}

func (ic *Controller) nodeChanged(obj any) {
	if n, ok := obj.(*corev1.Node); ok && n.Spec.PodCIDR == "" && len(n.Spec.PodCIDRs) == 0 {
		ic.queue.Add(n.Name)
	}
}

func (ic *Controller) nodeDeleted(obj any) {
	n, ok := controller.ObjectOf(obj).(*corev1.Node)
	if !ok {
		return
	}
	ic.mu.Lock()
	defer ic.mu.Unlock()
	p, ok := nodeCIDR(n)
	if !ok {
		p, ok = ic.assigned[n.Name]
	}
	delete(ic.assigned, n.Name)
	if ok {
		_ = ic.set.release(p)
	}
}

// sync gives one node a range if it still has none.
func (ic *Controller) sync(ctx context.Context, name string) error {
	node, err := ic.nodes.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if p, ok := nodeCIDR(node); ok {
		ic.mu.Lock()
		if mine, ok := ic.assigned[name]; ok && mine != p {
			// Someone else set the range first: ours goes back.
			_ = ic.set.release(mine)
		}
		delete(ic.assigned, name)
		_ = ic.set.occupy(p)
		ic.mu.Unlock()
		return nil
	}
	ic.mu.Lock()
	p, ok := ic.assigned[name]
	if !ok {
		p, err = ic.set.allocate()
		if err == nil {
			ic.assigned[name] = p
		}
	}
	ic.mu.Unlock()
	if errors.Is(err, ErrFull) {
		ic.events.Eventf(&corev1.ObjectReference{Kind: "Node", Name: name, UID: types.UID(name)}, corev1.EventTypeNormal,
			"CIDRNotAvailable", "Node %s status is now: CIDRNotAvailable", name)
		return fmt.Errorf("node %s: %w: %w", name, err, controller.ErrRequeue)
	}
	if err != nil {
		return err
	}
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"podCIDR": p.String(), "podCIDRs": []string{p.String()}}})
	if err != nil {
		return err
	}
	_, err = ic.client.CoreV1().Nodes().Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	switch {
	case err == nil:
		ic.log.Info("assigned podCIDR", "node", name, "podCIDR", p)
		return nil
	case apierrors.IsNotFound(err):
		ic.mu.Lock()
		delete(ic.assigned, name)
		_ = ic.set.release(p)
		ic.mu.Unlock()
		return nil
	}
	return fmt.Errorf("assign podCIDR %s to node %s: %w", p, name, err)
}
