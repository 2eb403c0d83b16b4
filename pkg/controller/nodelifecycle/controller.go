package nodelifecycle

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	coordlisters "k8s.io/client-go/listers/coordination/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"github.com/tugcluster/tug/pkg/controller"
)

// Name is the controller's name and the reporting component of its Events.
const Name = "node-lifecycle-controller"

// LeaseNamespace holds one Lease per node, renewed by its agent.
const LeaseNamespace = "kube-node-lease"

// podsByNode indexes pods by spec.nodeName.
const podsByNode = "nodelifecycle/nodeName"

// Controller watches node heartbeats, taints and evicts.
type Controller struct {
	cfg        Config
	client     kubernetes.Interface
	nodes      corelisters.NodeLister
	leases     coordlisters.LeaseLister
	podIndex   cache.Indexer
	synced     []cache.InformerSynced
	nodeQueue  workqueue.TypedRateLimitingInterface[string]
	evictQueue workqueue.TypedRateLimitingInterface[string]
	zones      *zones
	events     record.EventRecorder
	now        func() time.Time
	log        *slog.Logger

	mu        sync.Mutex
	health    map[string]*health
	taintSeen map[string]time.Time // "node/key" → first sight of a NoExecute taint without timeAdded
	missing   map[string]time.Time // node name → first sight of pods bound to it while it was absent
}

// NewWithConfig returns a constructor with explicit tunables; tests use it
// for short periods and to limit the controller to their own nodes.
func NewWithConfig(cfg Config) controller.Constructor {
	return func(c *controller.Context) (controller.Controller, error) {
		cfg := cfg.withDefaults()
		now := c.Now
		if now == nil {
			now = time.Now
		}
		nodeInf := c.Informers.Core().V1().Nodes()
		leaseInf := c.Informers.Coordination().V1().Leases()
		podInf := c.Informers.Core().V1().Pods()
		if err := podInf.Informer().AddIndexers(cache.Indexers{podsByNode: indexByNode}); err != nil {
			return nil, fmt.Errorf("%s: pod index: %w", Name, err)
		}
		nc := &Controller{
			cfg:      cfg,
			client:   c.Client,
			nodes:    nodeInf.Lister(),
			leases:   leaseInf.Lister(),
			podIndex: podInf.Informer().GetIndexer(),
			synced: []cache.InformerSynced{nodeInf.Informer().HasSynced, leaseInf.Informer().HasSynced,
				podInf.Informer().HasSynced},
			nodeQueue:  controller.NewRateLimitingQueue[string]("nodelifecycle"),
			evictQueue: controller.NewRateLimitingQueue[string]("nodelifecycle-eviction"),
			zones:      newZones(cfg),
			events:     c.Events(Name),
			now:        now,
			log:        c.Log.With("controller", Name),
			health:     map[string]*health{},
			taintSeen:  map[string]time.Time{},
			missing:    map[string]time.Time{},
		}
		handlers := []struct {
			inf cache.SharedIndexInformer
			h   cache.ResourceEventHandlerFuncs
		}{
			{nodeInf.Informer(), cache.ResourceEventHandlerFuncs{
				AddFunc:    nc.nodeChanged,
				UpdateFunc: func(_, cur any) { nc.nodeChanged(cur) },
				DeleteFunc: nc.nodeDeleted,
			}},
			{leaseInf.Informer(), cache.ResourceEventHandlerFuncs{
				AddFunc:    nc.leaseChanged,
				UpdateFunc: func(_, cur any) { nc.leaseChanged(cur) },
			}},
			{podInf.Informer(), cache.ResourceEventHandlerFuncs{
				AddFunc:    nc.podChanged,
				UpdateFunc: func(_, cur any) { nc.podChanged(cur) },
			}},
		}
		for _, h := range handlers {
			if _, err := h.inf.AddEventHandler(h.h); err != nil {
				return nil, fmt.Errorf("%s: %w", Name, err)
			}
		}
		return nc, nil
	}
}

func indexByNode(obj any) ([]string, error) {
	if p, ok := obj.(*corev1.Pod); ok && p.Spec.NodeName != "" {
		return []string{p.Spec.NodeName}, nil
	}
	return nil, nil
}

// Name implements controller.Controller.
func (nc *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (nc *Controller) Run(ctx context.Context, workers int) error {
	if !controller.WaitForSync(ctx, nc.synced...) {
		nc.nodeQueue.ShutDown()
		nc.evictQueue.ShutDown()
		return nil
	}
	nc.monitor()
	var wg sync.WaitGroup
	wg.Go(func() { controller.RunWorkers(ctx, nc.log, nc.nodeQueue, workers, nc.syncNode) })
	wg.Go(func() { controller.RunWorkers(ctx, nc.log, nc.evictQueue, workers, nc.syncEvictions) })
	wg.Go(func() { nc.every(ctx, nc.cfg.MonitorPeriod, nc.monitor) })
	wg.Go(func() { nc.every(ctx, nc.cfg.PodGCPeriod, func() { nc.collectPods(ctx) }) })
	wg.Wait()
	return nil
}

func (nc *Controller) every(ctx context.Context, d time.Duration, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}

// monitor reclassifies the zones and queues every node for a health check.
func (nc *Controller) monitor() {
	nodes, err := nc.nodes.List(nc.cfg.NodeSelector)
	if err != nil {
		return
	}
	if nc.zones.update(nodes) {
		// Leaving a cluster-wide outage: every node gets a full grace
		// period to report before it is judged again.
		nc.log.Info("nodes are reporting again, leaving disruption mode")
		nc.mu.Lock()
		for _, h := range nc.health {
			h.probe = nc.now()
		}
		nc.mu.Unlock()
	}
	for _, n := range nodes {
		nc.nodeQueue.Add(n.Name)
	}
}

func (nc *Controller) managed(n *corev1.Node) bool {
	return nc.cfg.NodeSelector.Matches(labels.Set(n.Labels))
}

func (nc *Controller) nodeChanged(obj any) {
	n, ok := obj.(*corev1.Node)
	if !ok || !nc.managed(n) {
		return
	}
	nc.nodeQueue.Add(n.Name)
	nc.evictQueue.Add(n.Name)
}

func (nc *Controller) nodeDeleted(obj any) {
	n, ok := controller.ObjectOf(obj).(*corev1.Node)
	if !ok {
		return
	}
	nc.mu.Lock()
	delete(nc.health, n.Name)
	for _, t := range n.Spec.Taints {
		delete(nc.taintSeen, n.Name+"/"+t.Key)
	}
	nc.mu.Unlock()
}

func (nc *Controller) leaseChanged(obj any) {
	if l, ok := obj.(*coordinationv1.Lease); ok && l.Namespace == LeaseNamespace {
		nc.nodeQueue.Add(l.Name)
	}
}

func (nc *Controller) podChanged(obj any) {
	if p, ok := obj.(*corev1.Pod); ok && p.Spec.NodeName != "" && p.DeletionTimestamp == nil {
		nc.evictQueue.Add(p.Spec.NodeName)
	}
}

// podsOn lists the pods bound to a node.
func (nc *Controller) podsOn(node string) []*corev1.Pod {
	objs, err := nc.podIndex.ByIndex(podsByNode, node)
	if err != nil {
		return nil
	}
	out := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok {
			out = append(out, p)
		}
	}
	return out
}
