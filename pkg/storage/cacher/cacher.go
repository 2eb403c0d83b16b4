package cacher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/btree"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/tugcluster/tug/pkg/storage"
	"github.com/tugcluster/tug/pkg/storage/etcd"
)

// Defaults of the options.
const (
	DefaultCapacity         = 10000
	DefaultBookmarkInterval = time.Minute
	DefaultWatcherBuffer    = 100
	DefaultWaitBudget       = 3 * time.Second
)

// Cacher is a storage.Interface serving reads of one resource prefix from
// memory.
type Cacher struct {
	store       *etcd.Store
	prefix      string
	newFunc     func() runtime.Object
	newListFunc func() runtime.Object
	keyFunc     func(obj runtime.Object) (string, error)

	capacity         int
	bookmarkInterval time.Duration
	watcherBuffer    int
	waitBudget       time.Duration
	index            *indexField
	log              *slog.Logger

	ready     chan struct{}
	readyOnce sync.Once

	mu      sync.RWMutex
	serving bool
	items   *btree.BTreeG[*item]
	rv      int64
	// Every event after revision oldest is in the ring.
	oldest   int64
	ring     []*event
	ringHead int
	ringLen  int
	// changed is closed (and replaced) whenever rv moves.
	changed chan struct{}
	watchers
}

var _ storage.Interface = (*Cacher)(nil)

type item struct {
	key string
	obj runtime.Object
}

func lessItem(a, b *item) bool { return a.key < b.key }

// event is one change as the cache saw it. obj is the new state (the
// last state for DELETED, carrying the deletion's revision); prev the
// state before a MODIFIED.
type event struct {
	typ       watch.EventType
	key       string
	obj, prev runtime.Object
	rv        int64
}

type indexField struct {
	name string
	get  func(obj runtime.Object) string
}

// Option configures a Cacher.
type Option func(*Cacher)

// WithCapacity sets how many recent events the cache keeps for watches
// resuming from a resourceVersion.
func WithCapacity(n int) Option { return func(c *Cacher) { c.capacity = max(n, 1) } }

// WithBookmarkInterval sets how often watchers that allow bookmarks get
// one.
func WithBookmarkInterval(d time.Duration) Option {
	return func(c *Cacher) { c.bookmarkInterval = d }
}

// WithWatcherBuffer sets how many events may wait for one watcher before
// it is closed as too slow.
func WithWatcherBuffer(n int) Option { return func(c *Cacher) { c.watcherBuffer = max(n, 1) } }

// WithWaitBudget bounds how long a read waits for the cache to reach the
// resourceVersion it asks for.
func WithWaitBudget(d time.Duration) Option { return func(c *Cacher) { c.waitBudget = d } }

// WithIndexField indexes watchers on a field: a watcher whose field
// selector requires name=value is only offered events whose old or new
// object has get(obj) == value (for example spec.nodeName of pods).
func WithIndexField(name string, get func(obj runtime.Object) string) Option {
	return func(c *Cacher) { c.index = &indexField{name: name, get: get} }
}

// WithKeyFunc sets how an object's key is computed; the default is
// prefix + namespace + "/" + name, or prefix + name for objects without a
// namespace.
func WithKeyFunc(f func(obj runtime.Object) (string, error)) Option {
	return func(c *Cacher) { c.keyFunc = f }
}

// WithLogger sets where the cache reports relists.
func WithLogger(l *slog.Logger) Option { return func(c *Cacher) { c.log = l } }

// New returns a Cacher of the objects under prefix in store. Call Run to
// fill it; until it is ready every request goes to the store.
func New(store *etcd.Store, prefix string, newFunc, newListFunc func() runtime.Object, opts ...Option) *Cacher {
	c := &Cacher{
		store:            store,
		prefix:           storage.PrefixKey(prefix),
		newFunc:          newFunc,
		newListFunc:      newListFunc,
		capacity:         DefaultCapacity,
		bookmarkInterval: DefaultBookmarkInterval,
		watcherBuffer:    DefaultWatcherBuffer,
		waitBudget:       DefaultWaitBudget,
		log:              slog.Default(),
		ready:            make(chan struct{}),
		items:            btree.NewG(32, lessItem),
		changed:          make(chan struct{}),
	}
	c.keyFunc = c.defaultKey
	for _, o := range opts {
		o(c)
	}
	c.ring = make([]*event, c.capacity)
	c.watchers.init()
	return c
}

func (c *Cacher) defaultKey(obj runtime.Object) (string, error) {
	acc, err := meta.Accessor(obj)
	if err != nil {
		return "", fmt.Errorf("object key: %w", err)
	}
	if ns := acc.GetNamespace(); ns != "" {
		return c.prefix + ns + "/" + acc.GetName(), nil
	}
	return c.prefix + acc.GetName(), nil
}

// Ready is closed once the cache holds the state of the prefix.
func (c *Cacher) Ready() <-chan struct{} { return c.ready }

// Run fills the cache with a list, keeps it current with one watch, and
// relists when the watch fails. It returns when ctx ends; the cache then
// stops serving and sends every request to the store.
func (c *Cacher) Run(ctx context.Context) error {
	stopBookmarks := c.startBookmarks(ctx)
	defer stopBookmarks()
	defer c.stop()
	backoff := 100 * time.Millisecond
	for {
		err := c.listAndWatch(ctx)
		if ctx.Err() != nil {
			return nil
		}
		c.log.Warn("watch cache relisting", "prefix", c.prefix, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (c *Cacher) listAndWatch(ctx context.Context) error {
	list := c.newListFunc()
	if err := c.store.GetList(ctx, c.prefix, storage.ListOptions{Recursive: true}, list); err != nil {
		return fmt.Errorf("list %s: %w", c.prefix, err)
	}
	objs, err := meta.ExtractList(list)
	if err != nil {
		return fmt.Errorf("list %s: %w", c.prefix, err)
	}
	la, err := meta.ListAccessor(list)
	if err != nil {
		return fmt.Errorf("list %s: %w", c.prefix, err)
	}
	rv, err := storage.ParseResourceVersion(la.GetResourceVersion())
	if err != nil {
		return fmt.Errorf("list %s: %w", c.prefix, err)
	}
	if err := c.replace(objs, rv); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := c.store.Watch(ctx, c.prefix, storage.ListOptions{
		ResourceVersion: storage.FormatResourceVersion(rv),
		Recursive:       true,
		AllowBookmarks:  true,
	})
	if err != nil {
		return fmt.Errorf("watch %s: %w", c.prefix, err)
	}
	defer w.Stop()
	for ev := range w.ResultChan() {
		switch ev.Type {
		case watch.Error:
			return fmt.Errorf("watch %s: %v", c.prefix, ev.Object)
		case watch.Bookmark:
			rev, err := storage.ObjectResourceVersion(ev.Object)
			if err != nil {
				return err
			}
			c.progress(rev)
		default:
			if err := c.apply(ev); err != nil {
				return err
			}
		}
	}
	return errors.New("watch closed")
}

// replace installs a fresh state read at rv. Watchers of the old state
// are closed: they resume from their last resourceVersion.
func (c *Cacher) replace(objs []runtime.Object, rv int64) error {
	items := btree.NewG(32, lessItem)
	for _, obj := range objs {
		key, err := c.keyFunc(obj)
		if err != nil {
			return err
		}
		items.ReplaceOrInsert(&item{key: key, obj: obj})
	}
	c.mu.Lock()
	c.items = items
	c.setRV(rv)
	c.oldest = rv
	clear(c.ring)
	c.ringHead, c.ringLen = 0, 0
	c.closeAllLocked()
	c.serving = true
	c.mu.Unlock()
	c.readyOnce.Do(func() { close(c.ready) })
	return nil
}

func (c *Cacher) stop() {
	c.mu.Lock()
	c.serving = false
	c.closeAllLocked()
	c.mu.Unlock()
}

// setRV moves the cache's revision and wakes readers waiting for it.
// c.mu must be held.
func (c *Cacher) setRV(rv int64) {
	if rv <= c.rv {
		return
	}
	c.rv = rv
	close(c.changed)
	c.changed = make(chan struct{})
}

// progress records that every event up to rv has been applied.
func (c *Cacher) progress(rv int64) {
	c.mu.Lock()
	c.setRV(rv)
	c.mu.Unlock()
}

func (c *Cacher) apply(ev watch.Event) error {
	rv, err := storage.ObjectResourceVersion(ev.Object)
	if err != nil {
		return err
	}
	key, err := c.keyFunc(ev.Object)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := &event{typ: ev.Type, key: key, obj: ev.Object, rv: rv}
	old, existed := c.items.Get(&item{key: key})
	switch ev.Type {
	case watch.Added, watch.Modified:
		c.items.ReplaceOrInsert(&item{key: key, obj: ev.Object})
		e.typ = watch.Added
		if existed {
			e.typ, e.prev = watch.Modified, old.obj
		}
	case watch.Deleted:
		c.items.Delete(&item{key: key})
	default:
		return fmt.Errorf("unexpected %s event from the store", ev.Type)
	}
	c.push(e)
	c.setRV(rv)
	c.dispatchLocked(e)
	return nil
}

// push appends e to the ring, forgetting the oldest event when full.
func (c *Cacher) push(e *event) {
	if c.ringLen == len(c.ring) {
		c.oldest = c.ring[c.ringHead].rv
		c.ring[c.ringHead] = e
		c.ringHead = (c.ringHead + 1) % len(c.ring)
		return
	}
	c.ring[(c.ringHead+c.ringLen)%len(c.ring)] = e
	c.ringLen++
}

// eventsAfter returns the ring's events newer than rv. c.mu must be held.
func (c *Cacher) eventsAfter(rv int64) []*event {
	var out []*event
	for i := range c.ringLen {
		e := c.ring[(c.ringHead+i)%len(c.ring)]
		if e.rv > rv {
			out = append(out, e)
		}
	}
	return out
}

func (c *Cacher) startBookmarks(ctx context.Context) func() {
	if c.bookmarkInterval <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(c.bookmarkInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				c.mu.Lock()
				c.bookmarkLocked()
				c.mu.Unlock()
			}
		}
	}()
	return func() { cancel(); <-done }
}
