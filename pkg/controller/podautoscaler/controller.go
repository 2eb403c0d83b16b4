package podautoscaler

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/client-go/kubernetes"
	autoscalinglisters "k8s.io/client-go/listers/autoscaling/v2"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/tugcluster/tug/pkg/controller"
)

// Name is the controller's name; its Events are reported by Component.
const (
	Name      = "horizontal-pod-autoscaler-controller"
	Component = "horizontal-pod-autoscaler"
)

// DefaultSyncPeriod is how often each autoscaler is evaluated.
const DefaultSyncPeriod = 15 * time.Second

// Controller scales the targets of HorizontalPodAutoscalers.
type Controller struct {
	client    kubernetes.Interface
	hpaLister autoscalinglisters.HorizontalPodAutoscalerLister
	podLister corelisters.PodLister
	synced    []cache.InformerSynced
	queue     controller.Queue
	events    record.EventRecorder
	metrics   usageSource
	period    time.Duration
	now       func() time.Time
	log       *slog.Logger

	mu      sync.Mutex
	history map[string]*scaleHistory // by "namespace/name"
}

// scaleHistory is what the stabilization windows and rate limits of one
// autoscaler look back on.
type scaleHistory struct {
	recommendations []recommendation
	events          []scaleEvent
}

// New builds the controller and registers its informer handlers; it is a
// controller.Constructor.
func New(c *controller.Context) (controller.Controller, error) {
	hpaInf := c.Informers.Autoscaling().V2().HorizontalPodAutoscalers()
	podInf := c.Informers.Core().V1().Pods()
	period := c.Options.HorizontalPodAutoscalerSyncPeriod
	if period <= 0 {
		period = DefaultSyncPeriod
	}
	hc := &Controller{
		client:    c.Client,
		hpaLister: hpaInf.Lister(),
		podLister: podInf.Lister(),
		synced:    []cache.InformerSynced{hpaInf.Informer().HasSynced, podInf.Informer().HasSynced},
		queue:     controller.NewQueue("horizontalpodautoscaler"),
		events:    c.Events(Component),
		metrics:   &metricsAPI{client: c.Client},
		period:    period,
		now:       c.Clock(),
		log:       c.Log.With("controller", Name),
		history:   map[string]*scaleHistory{},
	}
	err := controller.AddHandlers(controller.Handler{Informer: hpaInf.Informer(), Funcs: cache.ResourceEventHandlerFuncs{
		AddFunc: hc.queue.Enqueue,
		UpdateFunc: func(old, cur any) {
			// Status writes (ours) wait for the next period; spec changes
			// are acted on at once.
			o, ok1 := old.(*autoscalingv2.HorizontalPodAutoscaler)
			n, ok2 := cur.(*autoscalingv2.HorizontalPodAutoscaler)
			if !ok1 || !ok2 || !equality.Semantic.DeepEqual(o.Spec, n.Spec) {
				hc.queue.Enqueue(cur)
			}
		},
		DeleteFunc: hc.queue.Enqueue,
	}})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	return hc, nil
}

// Name implements controller.Controller.
func (hc *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (hc *Controller) Run(ctx context.Context, workers int) error {
	return controller.Run(ctx, hc.log, hc.queue, workers, hc.sync, hc.synced...)
}

// historyOf returns the autoscaler's history, creating it.
func (hc *Controller) historyOf(key string) *scaleHistory {
	hc.mu.Lock()
	defer hc.mu.Unlock()
	h := hc.history[key]
	if h == nil {
		h = &scaleHistory{}
		hc.history[key] = h
	}
	return h
}

func (hc *Controller) forget(key string) {
	hc.mu.Lock()
	defer hc.mu.Unlock()
	delete(hc.history, key)
}
