package endpointslice

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/tugcluster/tug/pkg/controller"
)

// Name is the controller's name.
const Name = "endpointslice-controller"

// Controller keeps the EndpointSlices of selector Services.
type Controller struct {
	client      kubernetes.Interface
	services    corelisters.ServiceLister
	pods        corelisters.PodLister
	nodes       corelisters.NodeLister
	slices      discoverylisters.EndpointSliceLister
	synced      []cache.InformerSynced
	queue       workqueue.TypedRateLimitingInterface[string]
	maxPerSlice int
	log         *slog.Logger

	mu      sync.Mutex
	written map[string]map[string]write // service key → slice name → our last write
}

// New is a controller.Constructor.
func New(c *controller.Context) (controller.Controller, error) {
	svcInf := c.Informers.Core().V1().Services()
	podInf := c.Informers.Core().V1().Pods()
	nodeInf := c.Informers.Core().V1().Nodes()
	sliceInf := c.Informers.Discovery().V1().EndpointSlices()
	ec := &Controller{
		client:   c.Client,
		services: svcInf.Lister(),
		pods:     podInf.Lister(),
		nodes:    nodeInf.Lister(),
		slices:   sliceInf.Lister(),
		synced: []cache.InformerSynced{svcInf.Informer().HasSynced, podInf.Informer().HasSynced,
			nodeInf.Informer().HasSynced, sliceInf.Informer().HasSynced},
		queue:       controller.NewRateLimitingQueue[string]("endpointslice"),
		maxPerSlice: DefaultMaxPerSlice,
		log:         c.Log.With("controller", Name),
		written:     map[string]map[string]write{},
	}
	handlers := []struct {
		inf cache.SharedIndexInformer
		h   cache.ResourceEventHandler
	}{
		{svcInf.Informer(), ServiceHandler(ec.queue)},
		{podInf.Informer(), PodHandler(ec.services, ec.queue)},
		{sliceInf.Informer(), cache.ResourceEventHandlerFuncs{
			UpdateFunc: func(_, cur any) { ec.sliceChanged(cur) },
			DeleteFunc: ec.sliceChanged,
		}},
	}
	for _, h := range handlers {
		if _, err := h.inf.AddEventHandler(h.h); err != nil {
			return nil, fmt.Errorf("%s: %w", Name, err)
		}
	}
	return ec, nil
}

// Name implements controller.Controller.
func (ec *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (ec *Controller) Run(ctx context.Context, workers int) error {
	return controller.Run(ctx, ec.log, ec.queue, workers, ec.sync, ec.synced...)
}

// ServiceHandler queues a Service's key on every change.
func ServiceHandler(q workqueue.TypedInterface[string]) cache.ResourceEventHandler {
	add := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			q.Add(key)
		}
	}
	return cache.ResourceEventHandlerFuncs{AddFunc: add, UpdateFunc: func(_, cur any) { add(cur) }, DeleteFunc: add}
}

// PodHandler queues the Services that select a pod, before and after a
// change of its labels.
func PodHandler(services corelisters.ServiceLister, q workqueue.TypedInterface[string]) cache.ResourceEventHandler {
	add := func(obj any) {
		pod, ok := controller.ObjectOf(obj).(*corev1.Pod)
		if !ok {
			return
		}
		for _, s := range ServicesSelecting(services, pod) {
			q.Add(s.Namespace + "/" + s.Name)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: add,
		UpdateFunc: func(old, cur any) {
			o, c := old.(*corev1.Pod), cur.(*corev1.Pod)
			if o.ResourceVersion == c.ResourceVersion {
				return
			}
			add(cur)
			if !labels.Equals(o.Labels, c.Labels) {
				add(old)
			}
		},
		DeleteFunc: add,
	}
}

func (ec *Controller) sliceChanged(obj any) {
	s, ok := controller.ObjectOf(obj).(*discoveryv1.EndpointSlice)
	if !ok || s.Labels[discoveryv1.LabelManagedBy] != ManagedBy || s.Labels[discoveryv1.LabelServiceName] == "" {
		return
	}
	ec.queue.Add(s.Namespace + "/" + s.Labels[discoveryv1.LabelServiceName])
}

// write is a slice write not yet seen in the cache: the resourceVersion
// written (0 for a deletion) and when.
type write struct {
	rv int64
	at time.Time
}

// writeMemory bounds how long a write is waited for, should the object
// have changed again in a way that hides it.
const writeMemory = 10 * time.Second

// noteWrite remembers a slice write so a sync from a cache that has not
// seen it yet waits instead of writing twice.
func (ec *Controller) noteWrite(svcKey, slice, rv string) {
	n, _ := strconv.ParseInt(rv, 10, 64)
	ec.mu.Lock()
	defer ec.mu.Unlock()
	if ec.written[svcKey] == nil {
		ec.written[svcKey] = map[string]write{}
	}
	ec.written[svcKey][slice] = write{rv: n, at: time.Now()}
}

// cacheCurrent reports whether the cache reflects every write made for
// the Service, forgetting the writes once it does.
func (ec *Controller) cacheCurrent(svcKey string, cached []*discoveryv1.EndpointSlice) bool {
	ec.mu.Lock()
	defer ec.mu.Unlock()
	w := ec.written[svcKey]
	if len(w) == 0 {
		return true
	}
	have := map[string]int64{}
	for _, s := range cached {
		have[s.Name], _ = strconv.ParseInt(s.ResourceVersion, 10, 64)
	}
	for name, wr := range w {
		got, present := have[name]
		if time.Since(wr.at) > writeMemory {
			continue
		}
		if (wr.rv == 0 && present) || (wr.rv != 0 && (!present || got < wr.rv)) {
			return false
		}
	}
	delete(ec.written, svcKey)
	return true
}
