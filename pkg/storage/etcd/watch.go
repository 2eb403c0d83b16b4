package etcd

import (
	"context"
	"fmt"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/tugcluster/tug/pkg/storage"
)

// watchBuffer is how many translated events wait for a slow reader
// before the etcd stream is no longer drained.
const watchBuffer = 100

// Watch implements storage.Interface with one etcd watch. With
// AllowBookmarks, etcd progress notifications (see RequestWatchProgress)
// become BOOKMARK events.
func (s *Store) Watch(ctx context.Context, key string, opts storage.ListOptions) (watch.Interface, error) {
	rv, err := storage.ParseResourceVersion(opts.ResourceVersion)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", key, err)
	}
	if opts.Recursive {
		key = storage.PrefixKey(key)
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &storeWatcher{
		store:  s,
		key:    key,
		opts:   opts,
		rv:     rv,
		result: make(chan watch.Event, watchBuffer),
		cancel: cancel,
	}
	go w.run(ctx)
	return w, nil
}

type storeWatcher struct {
	store  *Store
	key    string
	opts   storage.ListOptions
	rv     int64
	result chan watch.Event
	cancel context.CancelFunc
	once   sync.Once
}

func (w *storeWatcher) Stop()                          { w.once.Do(w.cancel) }
func (w *storeWatcher) ResultChan() <-chan watch.Event { return w.result }

func (w *storeWatcher) send(ctx context.Context, ev watch.Event) bool {
	select {
	case w.result <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

func (w *storeWatcher) sendError(ctx context.Context, st *metav1.Status) {
	w.send(ctx, watch.Event{Type: watch.Error, Object: st})
}

func (w *storeWatcher) run(ctx context.Context) {
	defer close(w.result)
	defer w.cancel()
	s := w.store

	startRev := w.rv + 1
	switch {
	case storage.WantsInitialEvents(w.opts):
		rev, ok := w.sendInitialState(ctx)
		if !ok {
			return
		}
		startRev = rev + 1
	case w.rv == 0:
		rev, err := s.CurrentRevision(ctx)
		if err != nil {
			w.sendError(ctx, storage.InternalErrorStatus(err))
			return
		}
		startRev = rev + 1
	}

	ops := []clientv3.OpOption{clientv3.WithRev(startRev), clientv3.WithPrevKV()}
	if w.opts.Recursive {
		ops = append(ops, clientv3.WithPrefix())
	}
	if w.opts.AllowBookmarks {
		ops = append(ops, clientv3.WithProgressNotify())
	}
	wch := s.client.Watch(clientv3.WithRequireLeader(ctx), s.keyPrefix+w.key, ops...)
	for resp := range wch {
		if resp.CompactRevision != 0 {
			w.sendError(ctx, storage.ExpiredStatus(fmt.Sprintf(
				"The resourceVersion for the provided watch is too old: %d was compacted (now at %d)", startRev-1, resp.CompactRevision)))
			return
		}
		if err := resp.Err(); err != nil {
			w.sendError(ctx, storage.InternalErrorStatus(err))
			return
		}
		if resp.IsProgressNotify() {
			if w.opts.AllowBookmarks {
				obj, err := storage.BookmarkObject(s.newFunc, resp.Header.Revision)
				if err != nil || !w.send(ctx, watch.Event{Type: watch.Bookmark, Object: obj}) {
					return
				}
			}
			continue
		}
		for _, e := range resp.Events {
			ev, ok, err := w.translate(e)
			if err != nil {
				w.sendError(ctx, storage.InternalErrorStatus(err))
				return
			}
			if ok && !w.send(ctx, ev) {
				return
			}
		}
	}
}

// sendInitialState sends the current state as ADDED events and, when the
// watch asked for initial events and bookmarks, the bookmark that ends
// them. It returns the revision the state was read at.
func (w *storeWatcher) sendInitialState(ctx context.Context) (int64, bool) {
	s := w.store
	opts := storage.ListOptions{
		ResourceVersion: storage.FormatResourceVersion(w.rv),
		Predicate:       storage.SelectionPredicate{Label: w.opts.Predicate.Label, Field: w.opts.Predicate.Field, GetAttrs: w.opts.Predicate.GetAttrs},
		Recursive:       w.opts.Recursive,
	}
	res, err := s.list(ctx, w.key, opts)
	if err != nil {
		w.sendError(ctx, storage.InternalErrorStatus(err))
		return 0, false
	}
	rev := res.rev
	for _, obj := range res.items {
		if !w.send(ctx, watch.Event{Type: watch.Added, Object: obj}) {
			return 0, false
		}
	}
	if w.opts.SendInitialEvents != nil && *w.opts.SendInitialEvents && w.opts.AllowBookmarks {
		obj, err := storage.InitialEventsEndBookmark(s.newFunc, rev)
		if err != nil {
			w.sendError(ctx, storage.InternalErrorStatus(err))
			return 0, false
		}
		if !w.send(ctx, watch.Event{Type: watch.Bookmark, Object: obj}) {
			return 0, false
		}
	}
	return rev, true
}

func (w *storeWatcher) translate(e *clientv3.Event) (watch.Event, bool, error) {
	s := w.store
	rev := e.Kv.ModRevision
	switch {
	case e.Type == clientv3.EventTypeDelete:
		if e.PrevKv == nil {
			return watch.Event{}, false, nil
		}
		obj := s.newFunc()
		if err := s.decode(e.PrevKv.Value, obj, rev); err != nil {
			return watch.Event{}, false, err
		}
		return storage.FilterEvent(w.opts.Predicate, watch.Deleted, obj, nil)
	case e.IsCreate() || e.PrevKv == nil:
		obj := s.newFunc()
		if err := s.decode(e.Kv.Value, obj, rev); err != nil {
			return watch.Event{}, false, err
		}
		return storage.FilterEvent(w.opts.Predicate, watch.Added, obj, nil)
	default:
		obj, prev := s.newFunc(), s.newFunc()
		if err := s.decode(e.Kv.Value, obj, rev); err != nil {
			return watch.Event{}, false, err
		}
		if err := s.decode(e.PrevKv.Value, prev, e.PrevKv.ModRevision); err != nil {
			return watch.Event{}, false, err
		}
		return storage.FilterEvent(w.opts.Predicate, watch.Modified, obj, prev)
	}
}
