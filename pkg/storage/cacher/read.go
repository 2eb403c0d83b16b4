package cacher

import (
	"context"
	"fmt"
	"reflect"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tugcluster/tug/pkg/storage"
)

// progressPoll is how often a waiting read asks etcd again for watch
// progress: etcd answers only once the cache's watch has caught up.
const progressPoll = 50 * time.Millisecond

// Create implements storage.Interface by writing to the store.
func (c *Cacher) Create(ctx context.Context, key string, obj, out runtime.Object) error {
	return c.store.Create(ctx, key, obj, out)
}

// GuaranteedUpdate implements storage.Interface by writing to the store,
// starting from the cached object when there is one: a current cache
// saves the store a read, a stale one costs a failed compare.
func (c *Cacher) GuaranteedUpdate(ctx context.Context, key string, out runtime.Object, pre *storage.Preconditions, tryUpdate storage.UpdateFunc) error {
	var hint runtime.Object
	c.mu.RLock()
	if c.serving {
		if it, ok := c.items.Get(&item{key: key}); ok {
			hint = it.obj
		}
	}
	c.mu.RUnlock()
	if hint != nil {
		hint = hint.DeepCopyObject()
	}
	return c.store.GuaranteedUpdateFrom(ctx, key, out, pre, tryUpdate, hint)
}

// Delete implements storage.Interface by writing to the store.
func (c *Cacher) Delete(ctx context.Context, key string, out runtime.Object, pre *storage.Preconditions) error {
	return c.store.Delete(ctx, key, out, pre)
}

func (c *Cacher) isServing() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.serving
}

// Get implements storage.Interface. resourceVersion "" reads etcd; any
// other value is served from the cache once it is not older than that.
func (c *Cacher) Get(ctx context.Context, key string, opts storage.GetOptions, out runtime.Object) error {
	if opts.ResourceVersion == "" || !c.isServing() {
		return c.store.Get(ctx, key, opts, out)
	}
	rv, err := storage.ParseResourceVersion(opts.ResourceVersion)
	if err != nil {
		return fmt.Errorf("get %s: %w", key, err)
	}
	if err := c.waitUntil(ctx, rv); err != nil {
		return fmt.Errorf("get %s: %w", key, err)
	}
	c.mu.RLock()
	it, ok := c.items.Get(&item{key: key})
	c.mu.RUnlock()
	if !ok {
		if opts.IgnoreNotFound {
			return setInto(out, c.newFunc())
		}
		return fmt.Errorf("get %s: %w", key, storage.ErrNotFound)
	}
	return setInto(out, it.obj.DeepCopyObject())
}

// setInto copies the value of src (a fresh object) into out.
func setInto(out, src runtime.Object) error {
	dst := reflect.ValueOf(out)
	s := reflect.ValueOf(src)
	if dst.Kind() != reflect.Pointer || dst.Type() != s.Type() {
		return fmt.Errorf("output object is %T, want %T", out, src)
	}
	dst.Elem().Set(s.Elem())
	return nil
}

// GetList implements storage.Interface. Served from the cache: "" (after
// catching up with etcd), "0" (as is, ignoring the limit, as Kubernetes
// does) and "not older than N". Continue tokens, exact resourceVersions
// and requests that come before the cache is ready go to the store; the
// continue token of a cached page resumes there at the page's revision.
func (c *Cacher) GetList(ctx context.Context, key string, opts storage.ListOptions, listObj runtime.Object) error {
	pred := opts.Predicate
	if pred.Continue != "" || opts.ResourceVersionMatch == metav1.ResourceVersionMatchExact || !c.isServing() {
		return c.store.GetList(ctx, key, opts, listObj)
	}
	limit := pred.Limit
	switch opts.ResourceVersion {
	case "":
		if err := c.waitConsistent(ctx); err != nil {
			// The cache could not catch up in time: etcd answers.
			return c.store.GetList(ctx, key, opts, listObj)
		}
	case "0":
		limit = 0
	default:
		rv, err := storage.ParseResourceVersion(opts.ResourceVersion)
		if err != nil {
			return fmt.Errorf("list %s: %w", key, err)
		}
		if err := c.waitUntil(ctx, rv); err != nil {
			return fmt.Errorf("list %s: %w", key, err)
		}
	}

	keyPrefix := key
	if opts.Recursive {
		keyPrefix = storage.PrefixKey(key)
	}
	var (
		objs      []runtime.Object
		lastKey   string
		more      bool
		remaining int64
		matchErr  error
	)
	c.mu.RLock()
	rv := c.rv
	visit := func(it *item) bool {
		if opts.Recursive && !hasPrefix(it.key, keyPrefix) {
			return false
		}
		if !opts.Recursive && it.key != key {
			return false
		}
		ok, err := pred.Matches(it.obj)
		if err != nil {
			matchErr = err
			return false
		}
		if !ok {
			return true
		}
		if limit > 0 && int64(len(objs)) == limit {
			more = true
			remaining++
			// Without a selector every later item counts; with one
			// knowing that one more exists is enough.
			return pred.Empty()
		}
		objs = append(objs, it.obj)
		lastKey = it.key
		return true
	}
	c.items.AscendGreaterOrEqual(&item{key: keyPrefix}, visit)
	c.mu.RUnlock()
	if matchErr != nil {
		return fmt.Errorf("list %s: %w", key, matchErr)
	}

	for i, obj := range objs {
		objs[i] = obj.DeepCopyObject()
	}
	cont := ""
	var rem *int64
	if more {
		var err error
		if cont, err = storage.EncodeContinue(lastKey+"\x00", keyPrefix, rv); err != nil {
			return fmt.Errorf("list %s: %w", key, err)
		}
		if pred.Empty() {
			rem = &remaining
		}
	}
	return storage.SetList(listObj, objs, rv, cont, rem)
}

func hasPrefix(s, prefix string) bool { return len(s) >= len(prefix) && s[:len(prefix)] == prefix }

// waitConsistent waits until the cache holds every write etcd had
// committed when it was called.
func (c *Cacher) waitConsistent(ctx context.Context) error {
	rev, err := c.store.CurrentRevision(ctx)
	if err != nil {
		return err
	}
	return c.waitUntil(ctx, rev)
}

// waitUntil waits, at most the wait budget, until the cache reached rv;
// it fails with ErrTooLarge when it did not.
func (c *Cacher) waitUntil(ctx context.Context, rv int64) error {
	c.mu.RLock()
	cur, changed := c.rv, c.changed
	c.mu.RUnlock()
	if cur >= rv {
		return nil
	}
	deadline := time.NewTimer(c.waitBudget)
	defer deadline.Stop()
	poll := time.NewTicker(progressPoll)
	defer poll.Stop()
	for {
		// Writes elsewhere in etcd move its revision without sending this
		// cache an event: progress notifications tell it it is current.
		_ = c.store.RequestWatchProgress(ctx)
		select {
		case <-changed:
		case <-poll.C:
		case <-deadline.C:
			return fmt.Errorf("cache at %d did not reach %d within %s: %w", cur, rv, c.waitBudget, storage.ErrTooLarge)
		case <-ctx.Done():
			return ctx.Err()
		}
		c.mu.RLock()
		cur, changed = c.rv, c.changed
		c.mu.RUnlock()
		if cur >= rv {
			return nil
		}
	}
}
