package controller

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// NewRateLimitingQueue returns a work queue with the default controller
// rate limiter (per-item exponential back-off plus an overall bucket),
// named for its metrics.
func NewRateLimitingQueue[T comparable](name string) workqueue.TypedRateLimitingInterface[T] {
	return workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[T](),
		workqueue.TypedRateLimitingQueueConfig[T]{Name: name})
}

// Queue is the work queue of "namespace/name" keys that most controllers
// sync: it turns objects (and delete tombstones) into keys.
type Queue struct {
	workqueue.TypedRateLimitingInterface[string]
}

// NewQueue returns a Queue named for its metrics.
func NewQueue(name string) Queue {
	return Queue{NewRateLimitingQueue[string](name)}
}

// Enqueue adds the key of obj, which may be a delete tombstone.
func (q Queue) Enqueue(obj any) {
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		q.Add(key)
	}
}

// EnqueueAfter adds the key of obj once d has passed.
func (q Queue) EnqueueAfter(obj any, d time.Duration) {
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		q.AddAfter(key, d)
	}
}

// Handlers returns informer handlers that enqueue the object on every add,
// update and delete.
func (q Queue) Handlers() cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    q.Enqueue,
		UpdateFunc: func(_, cur any) { q.Enqueue(cur) },
		DeleteFunc: q.Enqueue,
	}
}

// Run is the Run of a controller with one queue: it waits for the
// informers to sync, then processes q with syncFn on the given number of
// workers until ctx ends (see RunWorkers). q is shut down either way.
func Run[T comparable](ctx context.Context, log *slog.Logger, q workqueue.TypedRateLimitingInterface[T],
	workers int, syncFn func(context.Context, T) error, synced ...cache.InformerSynced) error {
	if !WaitForSync(ctx, synced...) {
		q.ShutDown()
		return nil
	}
	RunWorkers(ctx, log, q, workers, syncFn)
	return nil
}

// Handler pairs an informer with the handlers a controller registers on it.
type Handler struct {
	Informer cache.SharedIndexInformer
	Funcs    cache.ResourceEventHandler
}

// AddHandlers registers each handler on its informer.
func AddHandlers(handlers ...Handler) error {
	for _, h := range handlers {
		if _, err := h.Informer.AddEventHandler(h.Funcs); err != nil {
			return fmt.Errorf("add event handler: %w", err)
		}
	}
	return nil
}
