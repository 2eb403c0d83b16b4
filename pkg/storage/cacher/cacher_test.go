package cacher_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/tugcluster/tug/pkg/storage"
	"github.com/tugcluster/tug/pkg/storage/cacher"
	"github.com/tugcluster/tug/pkg/storage/etcd"
	"github.com/tugcluster/tug/pkg/storage/etcd/etcdtest"
	"github.com/tugcluster/tug/pkg/storage/storagetest"
)

// env is one embedded etcd shared by the tests of this package; each
// test gets its own key prefix in it.
type env struct {
	client *clientv3.Client
	codec  runtime.Codec
	n      int
}

func newEnv(t *testing.T) *env {
	codec, err := storagetest.Codec()
	if err != nil {
		t.Fatal(err)
	}
	return &env{client: etcdtest.Start(t), codec: codec}
}

func (e *env) store() *etcd.Store {
	e.n++
	return etcd.New(e.client, e.codec, storagetest.NewConfigMap, etcd.WithKeyPrefix(fmt.Sprintf("/test-%d", e.n)))
}

func namespaceOf(obj runtime.Object) string {
	return obj.(*corev1.ConfigMap).Namespace
}

func startCacher(t *testing.T, st *etcd.Store, opts ...cacher.Option) *cacher.Cacher {
	t.Helper()
	opts = append([]cacher.Option{
		cacher.WithCapacity(10),
		cacher.WithBookmarkInterval(200 * time.Millisecond),
		cacher.WithIndexField("metadata.namespace", namespaceOf),
	}, opts...)
	c := cacher.New(st, storagetest.Prefix, storagetest.NewConfigMap, storagetest.NewConfigMapList, opts...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	select {
	case <-c.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("cache not ready within 10s")
	}
	return c
}

func TestCacherConformance(t *testing.T) {
	e := newEnv(t)
	var last *etcd.Store
	newStore := func(t *testing.T) storage.Interface {
		last = e.store()
		return startCacher(t, last)
	}
	storagetest.RunTests(t, newStore, storagetest.WithBookmarks(), storagetest.WithExpire(func(t *testing.T, _ storage.Interface) {
		// The cache's window (10 events) is already exceeded; compacting
		// etcd expires what goes to the store as well.
		ctx := context.Background()
		rev, err := last.CurrentRevision(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := last.Compact(ctx, rev); err != nil {
			t.Fatal(err)
		}
	}))
	t.Run("IndexedWatch", func(t *testing.T) { testIndexedWatch(t, e) })
	t.Run("SlowWatcherClosed", func(t *testing.T) { testSlowWatcher(t, e) })
	t.Run("FutureResourceVersion", func(t *testing.T) { testFutureRV(t, e) })
	t.Run("ConsistentReadAfterOtherWrites", func(t *testing.T) { testConsistentRead(t, e) })
}

func create(t *testing.T, s storage.Interface, ns, name string) *corev1.ConfigMap {
	t.Helper()
	out := &corev1.ConfigMap{}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := s.Create(context.Background(), storagetest.Prefix+ns+"/"+name, cm, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func next(t *testing.T, w watch.Interface) (watch.Event, bool) {
	t.Helper()
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if ok && ev.Type == watch.Bookmark {
				continue
			}
			return ev, ok
		case <-time.After(5 * time.Second):
			t.Fatal("no event within 5s")
			return watch.Event{}, false
		}
	}
}

func testIndexedWatch(t *testing.T, e *env) {
	c := startCacher(t, e.store())
	start := create(t, c, "zz", "start")
	w, err := c.Watch(context.Background(), storagetest.Prefix, storage.ListOptions{
		ResourceVersion: start.ResourceVersion,
		Recursive:       true,
		Predicate: storage.SelectionPredicate{
			Field:    fields.OneTermEqualSelector("metadata.namespace", "ns1"),
			GetAttrs: storagetest.GetAttrs,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	create(t, c, "ns2", "a")
	create(t, c, "ns1", "b")
	ev, _ := next(t, w)
	if cm, ok := ev.Object.(*corev1.ConfigMap); ev.Type != watch.Added || !ok || cm.Namespace != "ns1" || cm.Name != "b" {
		t.Errorf("indexed watch got %s %+v, want ADDED ns1/b", ev.Type, ev.Object)
	}
}

func testSlowWatcher(t *testing.T, e *env) {
	c := startCacher(t, e.store(), cacher.WithWatcherBuffer(2), cacher.WithBookmarkInterval(0))
	start := create(t, c, "ns1", "start")
	opts := storage.ListOptions{ResourceVersion: start.ResourceVersion, Recursive: true}
	slow, err := c.Watch(context.Background(), storagetest.Prefix, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Stop()
	fast, err := c.Watch(context.Background(), storagetest.Prefix, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Stop()
	const n = 20
	fastErr := make(chan error, 1)
	go func() {
		for i := range n {
			select {
			case ev, ok := <-fast.ResultChan():
				if !ok {
					fastErr <- fmt.Errorf("fast watcher closed after %d events", i)
					return
				}
				if cm := ev.Object.(*corev1.ConfigMap); cm.Name != "cm-"+strconv.Itoa(i) {
					fastErr <- fmt.Errorf("fast watcher event %d is %s", i, cm.Name)
					return
				}
			case <-time.After(5 * time.Second):
				fastErr <- fmt.Errorf("fast watcher: no event %d within 5s", i)
				return
			}
		}
		fastErr <- nil
	}()
	for i := range n {
		create(t, c, "ns1", "cm-"+strconv.Itoa(i))
	}
	if err := <-fastErr; err != nil {
		t.Fatal(err)
	}
	got := 0
	for {
		ev, ok := next(t, slow)
		if !ok {
			break
		}
		if cm := ev.Object.(*corev1.ConfigMap); cm.Name != "cm-"+strconv.Itoa(got) {
			t.Fatalf("slow watcher event %d is %s: events must stay in order", got, cm.Name)
		}
		got++
	}
	if got >= n {
		t.Errorf("slow watcher got all %d events, want it closed early", got)
	}
}

func testFutureRV(t *testing.T, e *env) {
	c := startCacher(t, e.store(), cacher.WithWaitBudget(200*time.Millisecond))
	cm := create(t, c, "ns1", "a")
	future := strconv.FormatInt(mustRV(t, cm)+1000, 10)
	err := c.Get(context.Background(), storagetest.Prefix+"ns1/a", storage.GetOptions{ResourceVersion: future}, &corev1.ConfigMap{})
	if !errors.Is(err, storage.ErrTooLarge) {
		t.Errorf("get at a future rv: %v, want ErrTooLarge", err)
	}
	err = c.GetList(context.Background(), storagetest.Prefix, storage.ListOptions{ResourceVersion: future, Recursive: true}, &corev1.ConfigMapList{})
	if !errors.Is(err, storage.ErrTooLarge) {
		t.Errorf("list at a future rv: %v, want ErrTooLarge", err)
	}
}

// A consistent list returns the etcd revision even when the last writes
// were to other resources, without waiting the whole budget.
func testConsistentRead(t *testing.T, e *env) {
	st := e.store()
	c := startCacher(t, st, cacher.WithWaitBudget(5*time.Second))
	create(t, c, "ns1", "a")
	for i := range 5 {
		if _, err := e.client.Put(context.Background(), "/elsewhere/"+strconv.Itoa(i), "x"); err != nil {
			t.Fatal(err)
		}
	}
	rev, err := st.CurrentRevision(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	list := &corev1.ConfigMapList{}
	if err := c.GetList(context.Background(), storagetest.Prefix, storage.ListOptions{Recursive: true}, list); err != nil {
		t.Fatal(err)
	}
	if got, _ := strconv.ParseInt(list.ResourceVersion, 10, 64); got < rev {
		t.Errorf("consistent list at %d, want >= %d", got, rev)
	}
	if d := time.Since(began); d > 2*time.Second {
		t.Errorf("consistent list took %s", d)
	}
}

func mustRV(t *testing.T, obj runtime.Object) int64 {
	t.Helper()
	rv, err := storage.ObjectResourceVersion(obj)
	if err != nil {
		t.Fatal(err)
	}
	return rv
}
