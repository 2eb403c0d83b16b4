package cacher

import (
	"context"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/tugcluster/tug/pkg/storage"
)

// watchers is the registry of live watchers, split so that an event is
// only offered to the watchers that may want it. Guarded by Cacher.mu.
type watchers struct {
	nextID    int64
	all       map[int64]*cacheWatcher
	unindexed map[int64]*cacheWatcher
	byValue   map[string]map[int64]*cacheWatcher
}

func (ws *watchers) init() {
	ws.all = map[int64]*cacheWatcher{}
	ws.unindexed = map[int64]*cacheWatcher{}
	ws.byValue = map[string]map[int64]*cacheWatcher{}
}

// addLocked registers w; c.mu must be held.
func (c *Cacher) addLocked(w *cacheWatcher) {
	c.nextID++
	w.id = c.nextID
	c.all[w.id] = w
	if !w.indexed {
		c.unindexed[w.id] = w
		return
	}
	m := c.byValue[w.indexValue]
	if m == nil {
		m = map[int64]*cacheWatcher{}
		c.byValue[w.indexValue] = m
	}
	m[w.id] = w
}

// removeLocked unregisters w and closes its input; c.mu must be held.
func (c *Cacher) removeLocked(w *cacheWatcher) {
	if _, ok := c.all[w.id]; !ok {
		return
	}
	delete(c.all, w.id)
	if w.indexed {
		m := c.byValue[w.indexValue]
		delete(m, w.id)
		if len(m) == 0 {
			delete(c.byValue, w.indexValue)
		}
	} else {
		delete(c.unindexed, w.id)
	}
	close(w.in)
}

func (c *Cacher) remove(w *cacheWatcher) {
	c.mu.Lock()
	c.removeLocked(w)
	c.mu.Unlock()
}

func (c *Cacher) closeAllLocked() {
	for _, w := range c.all {
		c.removeLocked(w)
	}
}

// dispatchLocked offers e to the watchers that may want it without ever
// waiting: a watcher whose buffer is full is closed.
func (c *Cacher) dispatchLocked(e *event) {
	for _, w := range c.unindexed {
		c.offerLocked(w, e)
	}
	if c.index == nil || len(c.byValue) == 0 {
		return
	}
	v := c.index.get(e.obj)
	for _, w := range c.byValue[v] {
		c.offerLocked(w, e)
	}
	if e.prev != nil {
		if pv := c.index.get(e.prev); pv != v {
			for _, w := range c.byValue[pv] {
				c.offerLocked(w, e)
			}
		}
	}
}

func (c *Cacher) offerLocked(w *cacheWatcher, e *event) {
	select {
	case w.in <- e:
	default:
		// Too slow: the client re-watches from the last event it got.
		c.removeLocked(w)
	}
}

// bookmarkLocked offers a BOOKMARK at the cache's revision to every
// watcher that allows them; a full watcher just misses this one.
func (c *Cacher) bookmarkLocked() {
	e := &event{typ: watch.Bookmark, rv: c.rv}
	for _, w := range c.all {
		if w.bookmarks {
			select {
			case w.in <- e:
			default:
			}
		}
	}
}

// cacheWatcher is one watch served from the cache.
type cacheWatcher struct {
	id         int64
	cacher     *Cacher
	key        string
	recursive  bool
	pred       storage.SelectionPredicate
	bookmarks  bool
	indexed    bool
	indexValue string

	// initial events sent before anything from in: the state as ADDED
	// (plus the initial-events-end bookmark) or the replayed ring.
	initial []watch.Event
	replay  []*event
	in      chan *event
	result  chan watch.Event
	cancel  context.CancelFunc
	once    sync.Once
}

func (w *cacheWatcher) Stop()                          { w.once.Do(w.cancel) }
func (w *cacheWatcher) ResultChan() <-chan watch.Event { return w.result }

func (w *cacheWatcher) run(ctx context.Context) {
	defer close(w.result)
	defer w.cacher.remove(w)
	defer w.cancel()
	for _, ev := range w.initial {
		if !w.send(ctx, ev) {
			return
		}
	}
	w.initial = nil
	for _, e := range w.replay {
		if !w.deliver(ctx, e) {
			return
		}
	}
	w.replay = nil
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.in:
			if !ok || !w.deliver(ctx, e) {
				return
			}
		}
	}
}

func (w *cacheWatcher) send(ctx context.Context, ev watch.Event) bool {
	select {
	case w.result <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

// deliver turns a cache event into what this watcher sees, if anything.
func (w *cacheWatcher) deliver(ctx context.Context, e *event) bool {
	if e.typ == watch.Bookmark {
		obj, err := storage.BookmarkObject(w.cacher.newFunc, e.rv)
		if err != nil {
			return false
		}
		return w.send(ctx, watch.Event{Type: watch.Bookmark, Object: obj})
	}
	if !w.covers(e.key) {
		return true
	}
	ev, ok, err := storage.FilterEvent(w.pred, e.typ, e.obj, e.prev)
	if err != nil {
		return w.send(ctx, watch.Event{Type: watch.Error, Object: storage.InternalErrorStatus(err)})
	}
	if !ok {
		return true
	}
	ev.Object = copyOut(ev.Object, e.obj, e.prev)
	return w.send(ctx, ev)
}

func (w *cacheWatcher) covers(key string) bool {
	if w.recursive {
		return strings.HasPrefix(key, w.key)
	}
	return key == w.key
}

// copyOut returns a copy of obj unless FilterEvent already made one.
func copyOut(obj, cur, prev runtime.Object) runtime.Object {
	if obj == cur || (prev != nil && obj == prev) {
		return obj.DeepCopyObject()
	}
	return obj
}
