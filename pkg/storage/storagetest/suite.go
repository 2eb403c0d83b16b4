package storagetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/tugcluster/tug/pkg/storage"
)

// Prefix is the resource prefix every key of the suite lies under.
const Prefix = "/registry/configmaps/"

// Codec returns the protobuf codec the API server stores core/v1 objects
// with ("k8s\x00" + runtime.Unknown).
func Codec() (runtime.Codec, error) {
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("build scheme: %w", err)
	}
	metav1.AddToGroupVersion(scheme, schema.GroupVersion{Version: "v1"})
	pb := protobuf.NewSerializer(scheme, scheme)
	gv := corev1.SchemeGroupVersion
	return serializer.NewCodecFactory(scheme).CodecForVersions(pb, pb, gv, gv), nil
}

// NewConfigMap and NewConfigMapList return empty objects of the suite's
// type, for New functions of the implementations.
func NewConfigMap() runtime.Object     { return &corev1.ConfigMap{} }
func NewConfigMapList() runtime.Object { return &corev1.ConfigMapList{} }

// GetAttrs returns a ConfigMap's labels and its selectable fields
// metadata.name and metadata.namespace.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok {
		return nil, nil, fmt.Errorf("not a ConfigMap: %T", obj)
	}
	return labels.Set(cm.Labels), fields.Set{"metadata.name": cm.Name, "metadata.namespace": cm.Namespace}, nil
}

// Option tunes the suite to what an implementation offers.
type Option func(*suite)

// WithExpire enables the tests of expired resourceVersions: expire must
// make every revision up to now unavailable to list and watch (compact
// etcd; a watch cache whose window is smaller than 20 events also forgets
// them).
func WithExpire(expire func(t *testing.T, s storage.Interface)) Option {
	return func(su *suite) { su.expire = expire }
}

// WithBookmarks enables the test of periodic BOOKMARK events: the store
// must send one within five seconds to a watch with AllowBookmarks.
func WithBookmarks() Option {
	return func(su *suite) { su.bookmarks = true }
}

type suite struct {
	newStore  func(t *testing.T) storage.Interface
	expire    func(t *testing.T, s storage.Interface)
	bookmarks bool
}

// RunTests runs the conformance suite. newStore returns a store whose
// keys under Prefix are empty; it is called once per subtest.
func RunTests(t *testing.T, newStore func(t *testing.T) storage.Interface, opts ...Option) {
	su := &suite{newStore: newStore}
	for _, o := range opts {
		o(su)
	}
	tests := []struct {
		name string
		run  func(t *testing.T, s storage.Interface)
	}{
		{"CreateGet", testCreateGet},
		{"GetAtResourceVersion", testGetAtResourceVersion},
		{"UpdatePreconditions", testUpdatePreconditions},
		{"UpdateRetriesOnConflict", testUpdateRetry},
		{"UpdateNoop", testUpdateNoop},
		{"UpdateErrors", testUpdateErrors},
		{"Delete", testDelete},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"ListPredicates", testListPredicates},
		{"ListPaging", testListPaging},
		{"ListPagingWithSelector", testListPagingWithSelector},
		{"ListExactResourceVersion", testListExact},
		{"ListInvalidContinue", testListInvalidContinue},
		{"WatchFromResourceVersion", testWatchFromRV},
		{"WatchFromZero", testWatchFromZero},
		{"WatchPredicate", testWatchPredicate},
		{"WatchOneKey", testWatchOneKey},
		{"WatchSendInitialEvents", testWatchInitialEvents},
	}
	if su.bookmarks {
		tests = append(tests, struct {
			name string
			run  func(t *testing.T, s storage.Interface)
		}{"WatchBookmarks", testWatchBookmarks})
	}
	if su.expire != nil {
		tests = append(tests, struct {
			name string
			run  func(t *testing.T, s storage.Interface)
		}{"Expired", su.testExpired})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, su.newStore(t)) })
	}
}

func key(ns, name string) string { return Prefix + ns + "/" + name }

func configMap(ns, name string, lbls map[string]string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: lbls, UID: types.UID("uid-" + ns + "-" + name)},
		Data:       data,
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustCreate(t *testing.T, s storage.Interface, cm *corev1.ConfigMap) *corev1.ConfigMap {
	t.Helper()
	out := &corev1.ConfigMap{}
	if err := s.Create(testContext(t), key(cm.Namespace, cm.Name), cm, out); err != nil {
		t.Fatalf("create %s/%s: %v", cm.Namespace, cm.Name, err)
	}
	return out
}

func mustUpdate(t *testing.T, s storage.Interface, ns, name string, mutate func(cm *corev1.ConfigMap)) *corev1.ConfigMap {
	t.Helper()
	out := &corev1.ConfigMap{}
	err := s.GuaranteedUpdate(testContext(t), key(ns, name), out, nil, func(cur runtime.Object) (runtime.Object, error) {
		cm := cur.(*corev1.ConfigMap).DeepCopy()
		mutate(cm)
		return cm, nil
	})
	if err != nil {
		t.Fatalf("update %s/%s: %v", ns, name, err)
	}
	return out
}

func mustDelete(t *testing.T, s storage.Interface, ns, name string) *corev1.ConfigMap {
	t.Helper()
	out := &corev1.ConfigMap{}
	if err := s.Delete(testContext(t), key(ns, name), out, nil); err != nil {
		t.Fatalf("delete %s/%s: %v", ns, name, err)
	}
	return out
}

func rvOf(t *testing.T, obj runtime.Object) int64 {
	t.Helper()
	rv, err := storage.ObjectResourceVersion(obj)
	if err != nil || rv == 0 {
		t.Fatalf("object has no resourceVersion (%v): %#v", err, obj)
	}
	return rv
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

// eventSummary is what the watch tests compare: type, name and a data key.
type eventSummary struct {
	Type watch.EventType
	Name string
	V    string
}

func summarize(ev watch.Event) eventSummary {
	cm, ok := ev.Object.(*corev1.ConfigMap)
	if !ok {
		return eventSummary{Type: ev.Type, Name: fmt.Sprintf("%T", ev.Object)}
	}
	return eventSummary{Type: ev.Type, Name: cm.Name, V: cm.Data["v"]}
}

func nextEvent(t *testing.T, w watch.Interface) watch.Event {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatal("watch closed")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event within 10s")
	}
	return watch.Event{}
}

// nextEvents reads n events, skipping BOOKMARKs.
func nextEvents(t *testing.T, w watch.Interface, n int) []watch.Event {
	t.Helper()
	var evs []watch.Event
	for len(evs) < n {
		ev := nextEvent(t, w)
		if ev.Type == watch.Bookmark {
			continue
		}
		evs = append(evs, ev)
	}
	return evs
}

func expectNoEvent(t *testing.T, w watch.Interface, d time.Duration) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatal("watch closed")
			}
			if ev.Type == watch.Bookmark {
				continue
			}
			t.Fatalf("unexpected event %+v", summarize(ev))
		case <-timer.C:
			return
		}
	}
}

func startWatch(t *testing.T, s storage.Interface, k string, opts storage.ListOptions) watch.Interface {
	t.Helper()
	w, err := s.Watch(testContext(t), k, opts)
	if err != nil {
		t.Fatalf("watch %s: %v", k, err)
	}
	t.Cleanup(w.Stop)
	return w
}
