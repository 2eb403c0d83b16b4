package storagetest

import (
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/tugcluster/tug/pkg/storage"
)

func summaries(evs []watch.Event) []eventSummary {
	out := []eventSummary{}
	for _, ev := range evs {
		out = append(out, summarize(ev))
	}
	return out
}

func checkIncreasingRVs(t *testing.T, evs []watch.Event) {
	t.Helper()
	var last int64
	for _, ev := range evs {
		rv := rvOf(t, ev.Object)
		if rv <= last {
			t.Errorf("event %+v has rv %d, not after %d", summarize(ev), rv, last)
		}
		last = rv
	}
}

func testWatchFromRV(t *testing.T, s storage.Interface) {
	a := mustCreate(t, s, configMap("ns1", "a", nil, map[string]string{"v": "1"}))
	w := startWatch(t, s, Prefix, storage.ListOptions{ResourceVersion: a.ResourceVersion, Recursive: true})
	mustUpdate(t, s, "ns1", "a", func(cm *corev1.ConfigMap) { cm.Data["v"] = "2" })
	mustCreate(t, s, configMap("ns2", "b", nil, map[string]string{"v": "1"}))
	deleted := mustDelete(t, s, "ns1", "a")

	evs := nextEvents(t, w, 3)
	want := []eventSummary{{watch.Modified, "a", "2"}, {watch.Added, "b", "1"}, {watch.Deleted, "a", "2"}}
	if diff := cmp.Diff(want, summaries(evs)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	checkIncreasingRVs(t, evs)
	if got := evs[2].Object.(*corev1.ConfigMap).ResourceVersion; got != deleted.ResourceVersion {
		t.Errorf("DELETED carries rv %s, want the deletion's %s", got, deleted.ResourceVersion)
	}

	// A watch started at an older revision replays the same history.
	replay := startWatch(t, s, Prefix, storage.ListOptions{ResourceVersion: a.ResourceVersion, Recursive: true})
	if diff := cmp.Diff(want, summaries(nextEvents(t, replay, 3))); diff != "" {
		t.Errorf("replayed events (-want +got):\n%s", diff)
	}

	// A namespace watch sees only its namespace.
	nsw := startWatch(t, s, Prefix+"ns2", storage.ListOptions{ResourceVersion: a.ResourceVersion, Recursive: true})
	if diff := cmp.Diff([]eventSummary{{watch.Added, "b", "1"}}, summaries(nextEvents(t, nsw, 1))); diff != "" {
		t.Errorf("namespace watch (-want +got):\n%s", diff)
	}
	expectNoEvent(t, nsw, 200*time.Millisecond)
}

func testWatchFromZero(t *testing.T, s storage.Interface) {
	for i, rv := range []string{"", "0"} {
		t.Run("rv="+rv, func(t *testing.T) {
			ns := "ns" + strconv.Itoa(i)
			mustCreate(t, s, configMap(ns, "b", nil, map[string]string{"v": "1"}))
			mustCreate(t, s, configMap(ns, "a", nil, map[string]string{"v": "1"}))
			// "0" may be served by a cache that has not seen the creates
			// yet: catch up with a consistent read first.
			mustList(t, s, Prefix, storage.ListOptions{Recursive: true})
			w := startWatch(t, s, Prefix+ns, storage.ListOptions{ResourceVersion: rv, Recursive: true})
			evs := nextEvents(t, w, 2)
			want := []eventSummary{{watch.Added, "a", "1"}, {watch.Added, "b", "1"}}
			if diff := cmp.Diff(want, summaries(evs)); diff != "" {
				t.Errorf("initial events (-want +got):\n%s", diff)
			}
			mustCreate(t, s, configMap(ns, "c", nil, map[string]string{"v": "1"}))
			if diff := cmp.Diff([]eventSummary{{watch.Added, "c", "1"}}, summaries(nextEvents(t, w, 1))); diff != "" {
				t.Errorf("event after the initial state (-want +got):\n%s", diff)
			}
		})
	}
}

func testWatchPredicate(t *testing.T, s storage.Interface) {
	start := mustCreate(t, s, configMap("ns1", "other", nil, nil))
	w := startWatch(t, s, Prefix, storage.ListOptions{
		ResourceVersion: start.ResourceVersion,
		Recursive:       true,
		Predicate:       selector(t, "app=web", ""),
	})
	relabel := func(app, v string) func(cm *corev1.ConfigMap) {
		return func(cm *corev1.ConfigMap) {
			cm.Labels = map[string]string{"app": app}
			cm.Data = map[string]string{"v": v}
		}
	}
	mustCreate(t, s, configMap("ns1", "x", map[string]string{"app": "web"}, map[string]string{"v": "1"}))
	mustCreate(t, s, configMap("ns1", "y", map[string]string{"app": "db"}, map[string]string{"v": "1"}))
	mustUpdate(t, s, "ns1", "x", relabel("web", "2"))
	left := mustUpdate(t, s, "ns1", "x", relabel("db", "3"))
	mustUpdate(t, s, "ns1", "x", relabel("db", "4"))
	mustUpdate(t, s, "ns1", "x", relabel("web", "5"))
	mustUpdate(t, s, "ns1", "y", relabel("db", "2"))
	mustDelete(t, s, "ns1", "x")
	mustDelete(t, s, "ns1", "y")

	evs := nextEvents(t, w, 5)
	want := []eventSummary{
		{watch.Added, "x", "1"},
		{watch.Modified, "x", "2"},
		{watch.Deleted, "x", "2"}, // left the selection: the last state it matched in
		{watch.Added, "x", "5"},   // entered it again
		{watch.Deleted, "x", "5"},
	}
	if diff := cmp.Diff(want, summaries(evs)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	checkIncreasingRVs(t, evs)
	if got := evs[2].Object.(*corev1.ConfigMap).ResourceVersion; got != left.ResourceVersion {
		t.Errorf("DELETED for leaving the selection carries rv %s, want %s", got, left.ResourceVersion)
	}
	expectNoEvent(t, w, 200*time.Millisecond)
}

func testWatchOneKey(t *testing.T, s storage.Interface) {
	a := mustCreate(t, s, configMap("ns1", "a", nil, map[string]string{"v": "1"}))
	w := startWatch(t, s, key("ns1", "a"), storage.ListOptions{ResourceVersion: a.ResourceVersion})
	mustCreate(t, s, configMap("ns1", "ab", nil, map[string]string{"v": "1"}))
	mustUpdate(t, s, "ns1", "a", func(cm *corev1.ConfigMap) { cm.Data["v"] = "2" })
	if diff := cmp.Diff([]eventSummary{{watch.Modified, "a", "2"}}, summaries(nextEvents(t, w, 1))); diff != "" {
		t.Errorf("single-key watch (-want +got):\n%s", diff)
	}
	expectNoEvent(t, w, 200*time.Millisecond)
}

func testWatchInitialEvents(t *testing.T, s storage.Interface) {
	mustCreate(t, s, configMap("ns1", "a", map[string]string{"app": "web"}, map[string]string{"v": "1"}))
	last := mustCreate(t, s, configMap("ns1", "b", nil, map[string]string{"v": "1"}))
	yes := true
	w := startWatch(t, s, Prefix, storage.ListOptions{
		Recursive:         true,
		AllowBookmarks:    true,
		SendInitialEvents: &yes,
		Predicate:         selector(t, "app=web", ""),
	})
	ev := nextEvent(t, w)
	if diff := cmp.Diff(eventSummary{watch.Added, "a", "1"}, summarize(ev)); diff != "" {
		t.Errorf("initial event (-want +got):\n%s", diff)
	}
	var end watch.Event
	for end = nextEvent(t, w); end.Type == watch.Bookmark; end = nextEvent(t, w) {
		if isInitialEventsEnd(t, end.Object) {
			break
		}
	}
	if end.Type != watch.Bookmark {
		t.Fatalf("got %+v after the initial state, want the initial-events-end BOOKMARK", summarize(end))
	}
	if rv := rvOf(t, end.Object); rv < rvOf(t, last) {
		t.Errorf("initial-events-end bookmark rv %d older than the last write %s", rv, last.ResourceVersion)
	}
	mustCreate(t, s, configMap("ns1", "c", map[string]string{"app": "web"}, map[string]string{"v": "1"}))
	if diff := cmp.Diff([]eventSummary{{watch.Added, "c", "1"}}, summaries(nextEvents(t, w, 1))); diff != "" {
		t.Errorf("event after the initial state (-want +got):\n%s", diff)
	}
}

func isInitialEventsEnd(t *testing.T, obj runtime.Object) bool {
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok {
		t.Fatalf("bookmark object is %T, want the watched type", obj)
	}
	return cm.Annotations[metav1.InitialEventsAnnotationKey] == "true"
}

func testWatchBookmarks(t *testing.T, s storage.Interface) {
	a := mustCreate(t, s, configMap("ns1", "a", nil, nil))
	w := startWatch(t, s, Prefix, storage.ListOptions{ResourceVersion: a.ResourceVersion, Recursive: true, AllowBookmarks: true})
	b := mustCreate(t, s, configMap("ns1", "b", nil, nil))
	if got := summarize(nextEvent(t, w)); got != (eventSummary{Type: watch.Added, Name: "b"}) {
		t.Fatalf("first event %+v, want ADDED b", got)
	}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatal("watch closed")
			}
			if ev.Type != watch.Bookmark {
				t.Fatalf("unexpected event %+v", summarize(ev))
			}
			if rv := rvOf(t, ev.Object); rv < rvOf(t, b) {
				t.Errorf("bookmark rv %d older than the last event %s", rv, b.ResourceVersion)
			}
			return
		case <-deadline:
			t.Fatal("no BOOKMARK within 5s")
		}
	}
}

func (su *suite) testExpired(t *testing.T, s storage.Interface) {
	old := mustCreate(t, s, configMap("ns1", "a", nil, map[string]string{"v": "0"}))
	for i := 1; i <= 20; i++ {
		mustUpdate(t, s, "ns1", "a", func(cm *corev1.ConfigMap) { cm.Data["v"] = strconv.Itoa(i) })
	}
	su.expire(t, s)

	w := startWatch(t, s, Prefix, storage.ListOptions{ResourceVersion: old.ResourceVersion, Recursive: true})
	ev := nextEvent(t, w)
	st, ok := ev.Object.(*metav1.Status)
	if ev.Type != watch.Error || !ok {
		t.Fatalf("watch from an expired rv: got %s %T, want ERROR with a Status", ev.Type, ev.Object)
	}
	if st.Code != 410 || st.Reason != metav1.StatusReasonExpired {
		t.Errorf("status %d %s, want 410 Expired", st.Code, st.Reason)
	}
	select {
	case _, open := <-w.ResultChan():
		if open {
			t.Error("watch sent more after the ERROR event")
		}
	case <-time.After(5 * time.Second):
		t.Error("watch not closed after the ERROR event")
	}

	err := s.GetList(testContext(t), Prefix, storage.ListOptions{
		ResourceVersion:      old.ResourceVersion,
		ResourceVersionMatch: metav1.ResourceVersionMatchExact,
		Recursive:            true,
	}, &corev1.ConfigMapList{})
	wantErr(t, "list at an expired exact rv", err, storage.ErrGone)

	// The current state is still there.
	list := mustList(t, s, Prefix, storage.ListOptions{Recursive: true})
	if len(list.Items) != 1 || list.Items[0].Data["v"] != "20" {
		t.Errorf("list after expiry = %v", list.Items)
	}
}
