package cacher

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/watch"

	"github.com/tugcluster/tug/pkg/storage"
)

// Watch implements storage.Interface from the cache. A watch from a
// resourceVersion older than the cache's event window ends at once with
// an ERROR event (410 Expired).
func (c *Cacher) Watch(ctx context.Context, key string, opts storage.ListOptions) (watch.Interface, error) {
	rv, err := storage.ParseResourceVersion(opts.ResourceVersion)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", key, err)
	}
	if !c.isServing() {
		return c.store.Watch(ctx, key, opts)
	}
	initial := storage.WantsInitialEvents(opts)
	switch {
	case opts.ResourceVersion == "" && initial:
		if err := c.waitConsistent(ctx); err != nil {
			return c.store.Watch(ctx, key, opts)
		}
	case rv > 0:
		if err := c.waitUntil(ctx, rv); err != nil {
			return nil, fmt.Errorf("watch %s: %w", key, err)
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	w := &cacheWatcher{
		cacher:    c,
		key:       key,
		recursive: opts.Recursive,
		pred:      opts.Predicate,
		bookmarks: opts.AllowBookmarks,
		in:        make(chan *event, c.watcherBuffer),
		result:    make(chan watch.Event),
		cancel:    cancel,
	}
	if opts.Recursive {
		w.key = storage.PrefixKey(key)
	}
	if c.index != nil && opts.Predicate.Field != nil {
		w.indexValue, w.indexed = opts.Predicate.Field.RequiresExactMatch(c.index.name)
	}

	c.mu.Lock()
	switch {
	case initial:
		w.initial, err = c.stateLocked(w)
		if err == nil && opts.SendInitialEvents != nil && *opts.SendInitialEvents && opts.AllowBookmarks {
			end, berr := storage.InitialEventsEndBookmark(c.newFunc, c.rv)
			err = berr
			w.initial = append(w.initial, watch.Event{Type: watch.Bookmark, Object: end})
		}
	case rv == 0:
		// Explicitly no initial events: start from now.
	case rv < c.oldest:
		c.mu.Unlock()
		cancel()
		return expiredWatch(rv, c.oldest), nil
	default:
		w.replay = c.eventsAfter(rv)
	}
	if err != nil {
		c.mu.Unlock()
		cancel()
		return nil, fmt.Errorf("watch %s: %w", key, err)
	}
	c.addLocked(w)
	c.mu.Unlock()
	go w.run(ctx)
	return w, nil
}

// stateLocked returns the current objects w covers as ADDED events (deep
// copies). c.mu must be held.
func (c *Cacher) stateLocked(w *cacheWatcher) ([]watch.Event, error) {
	var (
		out []watch.Event
		err error
	)
	c.items.AscendGreaterOrEqual(&item{key: w.key}, func(it *item) bool {
		if !w.covers(it.key) {
			return false
		}
		ok, merr := w.pred.Matches(it.obj)
		if merr != nil {
			err = merr
			return false
		}
		if ok {
			out = append(out, watch.Event{Type: watch.Added, Object: it.obj.DeepCopyObject()})
		}
		return true
	})
	return out, err
}

// expiredWatch is a watch that only reports that rv is too old.
func expiredWatch(rv, oldest int64) watch.Interface {
	ch := make(chan watch.Event, 1)
	ch <- watch.Event{Type: watch.Error, Object: storage.ExpiredStatus(fmt.Sprintf(
		"The resourceVersion for the provided watch is too old: %d is before the oldest %d the cache holds", rv, oldest))}
	close(ch)
	return expired(ch)
}

type expired chan watch.Event

func (e expired) Stop()                          {}
func (e expired) ResultChan() <-chan watch.Event { return e }
