package garbagecollector

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"github.com/tugcluster/tug/pkg/controller"
)

// Name is the controller's name and event source.
const Name = "garbage-collector-controller"

// discoveryRetry is the wait between failed discovery attempts at start.
const discoveryRetry = 2 * time.Second

// ignored resources are never collected: events are many and short-lived
// and carry no ownerReferences.
var ignored = map[schema.GroupResource]bool{
	{Group: "", Resource: "events"}:              true,
	{Group: "events.k8s.io", Resource: "events"}: true,
}

// Controller is the garbage collector.
type Controller struct {
	client   kubernetes.Interface
	metadata metadata.Interface
	queue    workqueue.TypedRateLimitingInterface[item]
	events   record.EventRecorder
	log      *slog.Logger

	// Set once in Run before any worker starts; read-only afterwards.
	monitors map[schema.GroupVersionResource]*monitor
	kinds    map[schema.GroupKind]controller.APIResource
}

// item is one object to look at.
type item struct {
	resource  schema.GroupVersionResource
	namespace string
	name      string
}

func (i item) key() string {
	if i.namespace == "" {
		return i.name
	}
	return i.namespace + "/" + i.name
}

// New is the controller's constructor. The collector discovers resources
// and starts its own metadata informers in Run.
func New(cc *controller.Context) (controller.Controller, error) {
	if cc.Metadata == nil {
		return nil, fmt.Errorf("garbage collector: no metadata client")
	}
	return &Controller{
		client:   cc.Client,
		metadata: cc.Metadata,
		queue:    controller.NewRateLimitingQueue[item](Name),
		events:   cc.Events(Name),
		log:      cc.Log.With("controller", Name),
	}, nil
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (c *Controller) Run(ctx context.Context, workers int) error {
	resources, ok := c.discover(ctx)
	if !ok {
		return nil
	}
	c.kinds = map[schema.GroupKind]controller.APIResource{}
	c.monitors = map[schema.GroupVersionResource]*monitor{}
	for _, r := range resources {
		c.kinds[r.GroupVersion().WithKind(r.Kind).GroupKind()] = r
		if ignored[r.GroupResource()] {
			continue
		}
		m, err := c.newMonitor(r)
		if err != nil {
			return err
		}
		c.monitors[r.GroupVersionResource] = m
	}
	var wg sync.WaitGroup
	synced := make([]cache.InformerSynced, 0, len(c.monitors))
	for _, m := range c.monitors {
		wg.Go(func() { m.informer.RunWithContext(ctx) })
		synced = append(synced, m.informer.HasSynced)
	}
	defer wg.Wait()
	if !controller.WaitForSync(ctx, synced...) {
		return nil
	}
	c.log.Info("garbage collector synced", "resources", len(c.monitors))
	controller.RunWorkers(ctx, c.log, c.queue, workers, c.sync)
	return nil
}

// discover lists the collectable resources, retrying until it succeeds
// (a partial answer is used) or ctx ends.
func (c *Controller) discover(ctx context.Context) ([]controller.APIResource, bool) {
	for {
		resources, err := controller.DiscoverResources(c.client.Discovery(), "list", "watch", "delete")
		if len(resources) > 0 {
			if err != nil {
				c.log.Warn("discovery incomplete, collecting the resources found", "err", err)
			}
			return resources, true
		}
		c.log.Warn("discovery failed, retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil, false
		case <-time.After(discoveryRetry):
		}
	}
}

// resourceOf maps an ownerReference's apiVersion and kind to the resource
// serving it.
func (c *Controller) resourceOf(apiVersion, kind string) (controller.APIResource, bool) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return controller.APIResource{}, false
	}
	r, ok := c.kinds[gv.WithKind(kind).GroupKind()]
	return r, ok
}
