package storagetest

import (
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugcluster/tug/pkg/storage"
)

func testCreateGet(t *testing.T, s storage.Interface) {
	ctx := testContext(t)
	in := configMap("ns1", "a", map[string]string{"app": "web"}, map[string]string{"v": "1"})
	in.ResourceVersion = "42" // must be ignored on create
	created := mustCreate(t, s, in)
	rv := rvOf(t, created)

	got := &corev1.ConfigMap{}
	if err := s.Get(ctx, key("ns1", "a"), storage.GetOptions{}, got); err != nil {
		t.Fatalf("get: %v", err)
	}
	if diff := cmp.Diff(created, got); diff != "" {
		t.Errorf("get differs from create (-create +get):\n%s", diff)
	}
	if rvOf(t, got) != rv || got.Data["v"] != "1" || got.Labels["app"] != "web" {
		t.Errorf("get = %+v, want rv %d", got, rv)
	}

	err := s.Create(ctx, key("ns1", "a"), configMap("ns1", "a", nil, nil), &corev1.ConfigMap{})
	wantErr(t, "second create", err, storage.ErrExists)

	err = s.Get(ctx, key("ns1", "missing"), storage.GetOptions{}, &corev1.ConfigMap{})
	wantErr(t, "get missing", err, storage.ErrNotFound)
	empty := &corev1.ConfigMap{}
	if err := s.Get(ctx, key("ns1", "missing"), storage.GetOptions{IgnoreNotFound: true}, empty); err != nil {
		t.Fatalf("get missing with IgnoreNotFound: %v", err)
	}
	if empty.Name != "" {
		t.Errorf("IgnoreNotFound returned %+v, want an empty object", empty)
	}

	// What a caller gets is its own: changing it changes nothing stored.
	got.Data["v"] = "changed"
	again := &corev1.ConfigMap{}
	if err := s.Get(ctx, key("ns1", "a"), storage.GetOptions{ResourceVersion: strconv.FormatInt(rv, 10)}, again); err != nil {
		t.Fatalf("get: %v", err)
	}
	if again.Data["v"] != "1" {
		t.Errorf("stored object changed through a returned copy: %v", again.Data)
	}
}

func testGetAtResourceVersion(t *testing.T, s storage.Interface) {
	ctx := testContext(t)
	mustCreate(t, s, configMap("ns1", "a", nil, map[string]string{"v": "1"}))
	updated := mustUpdate(t, s, "ns1", "a", func(cm *corev1.ConfigMap) { cm.Data["v"] = "2" })
	rv := rvOf(t, updated)
	for _, req := range []string{"", strconv.FormatInt(rv, 10), "0"} {
		got := &corev1.ConfigMap{}
		if err := s.Get(ctx, key("ns1", "a"), storage.GetOptions{ResourceVersion: req}, got); err != nil {
			t.Fatalf("get at %q: %v", req, err)
		}
		// "0" may be served by any state; after the read at rv it is
		// not older than that one.
		if got.Data["v"] != "2" || rvOf(t, got) != rv {
			t.Errorf("get at %q = v%s rv %s, want v2 rv %d", req, got.Data["v"], got.ResourceVersion, rv)
		}
	}
}

func testUpdatePreconditions(t *testing.T, s storage.Interface) {
	ctx := testContext(t)
	created := mustCreate(t, s, configMap("ns1", "a", nil, map[string]string{"v": "1"}))
	updated := mustUpdate(t, s, "ns1", "a", func(cm *corev1.ConfigMap) { cm.Data["v"] = "2" })
	if rvOf(t, updated) <= rvOf(t, created) {
		t.Fatalf("update rv %s not after create rv %s", updated.ResourceVersion, created.ResourceVersion)
	}

	set := func(cur runtime.Object) (runtime.Object, error) {
		cm := cur.(*corev1.ConfigMap).DeepCopy()
		cm.Data["v"] = "3"
		return cm, nil
	}
	stale := created.ResourceVersion
	err := s.GuaranteedUpdate(ctx, key("ns1", "a"), &corev1.ConfigMap{}, &storage.Preconditions{ResourceVersion: &stale}, set)
	wantErr(t, "update with stale resourceVersion", err, storage.ErrConflict)
	otherUID := types.UID("someone-else")
	err = s.GuaranteedUpdate(ctx, key("ns1", "a"), &corev1.ConfigMap{}, &storage.Preconditions{UID: &otherUID}, set)
	wantErr(t, "update with other UID", err, storage.ErrConflict)

	current, uid := updated.ResourceVersion, updated.UID
	out := &corev1.ConfigMap{}
	if err := s.GuaranteedUpdate(ctx, key("ns1", "a"), out, &storage.Preconditions{ResourceVersion: &current, UID: &uid}, set); err != nil {
		t.Fatalf("update with matching preconditions: %v", err)
	}
	if out.Data["v"] != "3" {
		t.Errorf("update result %v, want v=3", out.Data)
	}
}

func testUpdateRetry(t *testing.T, s storage.Interface) {
	ctx := testContext(t)
	mustCreate(t, s, configMap("ns1", "a", nil, map[string]string{"v": "1"}))
	calls := 0
	out := &corev1.ConfigMap{}
	err := s.GuaranteedUpdate(ctx, key("ns1", "a"), out, nil, func(cur runtime.Object) (runtime.Object, error) {
		calls++
		if calls == 1 {
			// A concurrent writer gets in between read and write.
			mustUpdate(t, s, "ns1", "a", func(cm *corev1.ConfigMap) { cm.Data["other"] = "x" })
		}
		cm := cur.(*corev1.ConfigMap).DeepCopy()
		cm.Data["v"] = "2"
		return cm, nil
	})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if calls != 2 {
		t.Errorf("tryUpdate called %d times, want 2", calls)
	}
	want := map[string]string{"v": "2", "other": "x"}
	if diff := cmp.Diff(want, out.Data); diff != "" {
		t.Errorf("data after retried update (-want +got):\n%s", diff)
	}
}

func testUpdateNoop(t *testing.T, s storage.Interface) {
	ctx := testContext(t)
	created := mustCreate(t, s, configMap("ns1", "a", nil, map[string]string{"v": "1"}))
	w := startWatch(t, s, Prefix, storage.ListOptions{ResourceVersion: created.ResourceVersion, Recursive: true})
	out := &corev1.ConfigMap{}
	err := s.GuaranteedUpdate(ctx, key("ns1", "a"), out, nil, func(cur runtime.Object) (runtime.Object, error) {
		return cur.DeepCopyObject(), nil
	})
	if err != nil {
		t.Fatalf("no-op update: %v", err)
	}
	if out.ResourceVersion != created.ResourceVersion {
		t.Errorf("no-op update changed resourceVersion %s -> %s", created.ResourceVersion, out.ResourceVersion)
	}
	got := &corev1.ConfigMap{}
	if err := s.Get(ctx, key("ns1", "a"), storage.GetOptions{}, got); err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.ResourceVersion != created.ResourceVersion {
		t.Errorf("stored resourceVersion %s after no-op update, want %s", got.ResourceVersion, created.ResourceVersion)
	}
	expectNoEvent(t, w, 200*time.Millisecond)
}

func testUpdateErrors(t *testing.T, s storage.Interface) {
	ctx := testContext(t)
	noop := func(cur runtime.Object) (runtime.Object, error) { return cur, nil }
	err := s.GuaranteedUpdate(ctx, key("ns1", "missing"), &corev1.ConfigMap{}, nil, noop)
	wantErr(t, "update missing", err, storage.ErrNotFound)

	mustCreate(t, s, configMap("ns1", "a", nil, map[string]string{"v": "1"}))
	boom := errors.New("boom")
	err = s.GuaranteedUpdate(ctx, key("ns1", "a"), &corev1.ConfigMap{}, nil, func(runtime.Object) (runtime.Object, error) {
		return nil, boom
	})
	wantErr(t, "update whose tryUpdate fails", err, boom)
}

func testDelete(t *testing.T, s storage.Interface) {
	ctx := testContext(t)
	created := mustCreate(t, s, configMap("ns1", "a", nil, map[string]string{"v": "1"}))
	otherUID := types.UID("someone-else")
	err := s.Delete(ctx, key("ns1", "a"), &corev1.ConfigMap{}, &storage.Preconditions{UID: &otherUID})
	wantErr(t, "delete with other UID", err, storage.ErrConflict)
	stale := "1"
	err = s.Delete(ctx, key("ns1", "a"), &corev1.ConfigMap{}, &storage.Preconditions{ResourceVersion: &stale})
	wantErr(t, "delete with stale resourceVersion", err, storage.ErrConflict)
	if err := s.Get(ctx, key("ns1", "a"), storage.GetOptions{}, &corev1.ConfigMap{}); err != nil {
		t.Fatalf("object gone after failed deletes: %v", err)
	}

	rv, uid := created.ResourceVersion, created.UID
	out := &corev1.ConfigMap{}
	if err := s.Delete(ctx, key("ns1", "a"), out, &storage.Preconditions{ResourceVersion: &rv, UID: &uid}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if out.Name != "a" || out.Data["v"] != "1" {
		t.Errorf("delete returned %+v, want the last state", out)
	}
	if rvOf(t, out) <= rvOf(t, created) {
		t.Errorf("delete returned rv %s, want the deletion's revision (after %s)", out.ResourceVersion, created.ResourceVersion)
	}
	err = s.Get(ctx, key("ns1", "a"), storage.GetOptions{}, &corev1.ConfigMap{})
	wantErr(t, "get deleted", err, storage.ErrNotFound)
	err = s.Delete(ctx, key("ns1", "a"), &corev1.ConfigMap{}, nil)
	wantErr(t, "delete missing", err, storage.ErrNotFound)
}

func testConcurrentUpdates(t *testing.T, s storage.Interface) {
	ctx := testContext(t)
	mustCreate(t, s, configMap("ns1", "counter", nil, map[string]string{"n": "0"}))
	const workers, each = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				err := s.GuaranteedUpdate(ctx, key("ns1", "counter"), &corev1.ConfigMap{}, nil, func(cur runtime.Object) (runtime.Object, error) {
					cm := cur.(*corev1.ConfigMap).DeepCopy()
					n, err := strconv.Atoi(cm.Data["n"])
					if err != nil {
						return nil, err
					}
					cm.Data["n"] = strconv.Itoa(n + 1)
					return cm, nil
				})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent update: %v", err)
	}
	got := &corev1.ConfigMap{}
	if err := s.Get(ctx, key("ns1", "counter"), storage.GetOptions{}, got); err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.Data["n"] != strconv.Itoa(workers*each) {
		t.Errorf("counter = %s, want %d", got.Data["n"], workers*each)
	}
}
