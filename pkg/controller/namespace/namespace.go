package namespace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"github.com/tugcluster/tug/pkg/controller"
)

// Name is the controller's name and event source.
const Name = "namespace-controller"

// Back-off while content remains: first retry after minRetry, doubling up
// to maxRetry.
const (
	minRetry = 250 * time.Millisecond
	maxRetry = 15 * time.Second
)

// Controller empties and finalizes namespaces being deleted.
type Controller struct {
	client kubernetes.Interface
	// discovery caches what the API serves; it is reset after a failure.
	discovery discovery.CachedDiscoveryInterface
	metadata  metadata.Interface
	lister    corelisters.NamespaceLister
	synced    cache.InformerSynced
	queue     workqueue.TypedRateLimitingInterface[string]
	events    record.EventRecorder
	now       func() time.Time
	log       *slog.Logger
}

// New is the controller's constructor.
func New(cc *controller.Context) (controller.Controller, error) {
	if cc.Metadata == nil {
		return nil, errors.New("namespace controller: no metadata client")
	}
	inf := cc.Informers.Core().V1().Namespaces()
	c := &Controller{
		client:    cc.Client,
		discovery: memory.NewMemCacheClient(cc.Client.Discovery()),
		metadata:  cc.Metadata,
		lister:    inf.Lister(),
		synced:    inf.Informer().HasSynced,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](minRetry, maxRetry),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: Name}),
		events: cc.Events(Name),
		now:    cc.Now,
		log:    cc.Log.With("controller", Name),
	}
	_, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj any) { c.enqueue(obj) },
	})
	if err != nil {
		return nil, fmt.Errorf("namespace controller: %w", err)
	}
	return c, nil
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (c *Controller) Run(ctx context.Context, workers int) error {
	return controller.Run(ctx, c.log, c.queue, workers, c.sync, c.synced)
}

func (c *Controller) enqueue(obj any) {
	if ns, ok := obj.(*corev1.Namespace); ok && ns.DeletionTimestamp != nil {
		c.queue.Add(ns.Name)
	}
}

// sync empties one namespace being deleted and finalizes it when empty.
func (c *Controller) sync(ctx context.Context, name string) error {
	cached, err := c.lister.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if cached.DeletionTimestamp == nil || !slices.Contains(cached.Spec.Finalizers, corev1.FinalizerKubernetes) {
		return nil
	}
	ns := cached.DeepCopy()
	report := c.deleteContent(ctx, ns.Name)
	ns, err = c.updateConditions(ctx, ns, report)
	if err != nil {
		return err
	}
	if err := report.err(); err != nil {
		if report.contentErr != nil {
			c.events.Event(ns, corev1.EventTypeWarning, "NamespaceDeletionContentFailure", report.contentErr.Error())
		}
		return fmt.Errorf("namespace %s: %w", name, err)
	}
	if !report.empty() {
		if report.retryAfter > 0 {
			c.queue.AddAfter(name, report.retryAfter)
		}
		return fmt.Errorf("namespace %s: %w", name, controller.ErrRequeue)
	}
	return c.finalize(ctx, ns)
}

// finalize drops the "kubernetes" finalizer through the finalize
// subresource.
func (c *Controller) finalize(ctx context.Context, ns *corev1.Namespace) error {
	ns.Spec.Finalizers = slices.DeleteFunc(ns.Spec.Finalizers, func(f corev1.FinalizerName) bool {
		return f == corev1.FinalizerKubernetes
	})
	_, err := c.client.CoreV1().Namespaces().Finalize(ctx, ns, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("finalize namespace %s: %w", ns.Name, err)
	}
	c.log.Info("namespace emptied and finalized", "namespace", ns.Name)
	return nil
}
