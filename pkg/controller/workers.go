package controller

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// ErrRequeue is returned (wrapped) by a sync function that is not done yet
// but did nothing wrong, such as a namespace still holding content: the key
// is retried with the queue's back-off and no error is logged.
var ErrRequeue = errors.New("not done yet, retry later")

// RunWorkers processes q with sync on the given number of goroutines until
// ctx ends, then shuts q down and waits for the workers. A key whose sync
// fails is retried with the queue's rate limiter; a key that succeeds has
// its back-off forgotten.
func RunWorkers[T comparable](ctx context.Context, log *slog.Logger, q workqueue.TypedRateLimitingInterface[T],
	workers int, syncFn func(context.Context, T) error) {
	stop := context.AfterFunc(ctx, q.ShutDown)
	defer stop()
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for processNext(ctx, log, q, syncFn) {
			}
		})
	}
	<-ctx.Done()
	q.ShutDown()
	wg.Wait()
}

func processNext[T comparable](ctx context.Context, log *slog.Logger, q workqueue.TypedRateLimitingInterface[T],
	syncFn func(context.Context, T) error) bool {
	key, quit := q.Get()
	if quit {
		return false
	}
	defer q.Done(key)
	err := syncFn(ctx, key)
	switch {
	case err == nil:
		q.Forget(key)
	case ctx.Err() != nil:
		// Shutting down: the next leader starts from a fresh list.
	case errors.Is(err, ErrRequeue):
		q.AddRateLimited(key)
	default:
		log.Warn("sync failed, retrying", "key", key, "retries", q.NumRequeues(key), "err", err)
		q.AddRateLimited(key)
	}
	return true
}

// WaitForSync waits until every informer has synced; false when ctx ended
// first.
func WaitForSync(ctx context.Context, synced ...cache.InformerSynced) bool {
	return cache.WaitForCacheSync(ctx.Done(), synced...)
}

// ObjectOf unwraps the object of a delete notification, which may be a
// tombstone when the watch missed the deletion.
func ObjectOf(obj any) any {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return t.Obj
	}
	return obj
}
