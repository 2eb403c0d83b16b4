package integration

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

func pod(name, node string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{
			{Name: "c", Image: "example.test/app:v1"}}},
	}
}

func TestLabelAndFieldSelectors(t *testing.T) {
	ns := newNamespace(t)
	pods := cluster.client.CoreV1().Pods(ns)
	for i, spec := range []struct {
		tier, node string
	}{{"web", "n1"}, {"web", "n2"}, {"db", "n1"}, {"cache", ""}} {
		if _, err := pods.Create(ctx(t), pod(fmt.Sprintf("p%d", i), spec.node, map[string]string{"tier": spec.tier}), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		label, field string
		want         int
	}{
		{"tier=web", "", 2},
		{"tier!=web", "", 2},
		{"tier in (db,cache)", "", 2},
		{"tier notin (web)", "", 2},
		{"tier", "", 4},
		{"!tier", "", 0},
		{"", "spec.nodeName=n1", 2},
		{"", "spec.nodeName=", 1},
		{"tier=web", "spec.nodeName=n2", 1},
		{"", "metadata.name=p3", 1},
		{"", "metadata.namespace=" + ns, 4},
		{"", "status.phase=Pending", 4},
	}
	for _, c := range cases {
		list, err := pods.List(ctx(t), metav1.ListOptions{LabelSelector: c.label, FieldSelector: c.field})
		if err != nil {
			t.Fatalf("%q %q: %v", c.label, c.field, err)
		}
		if len(list.Items) != c.want {
			t.Errorf("label %q field %q: %d pods, want %d", c.label, c.field, len(list.Items), c.want)
		}
	}
	_, err := pods.List(ctx(t), metav1.ListOptions{FieldSelector: "spec.nope=x"})
	if !apierrors.IsBadRequest(err) {
		t.Fatalf("unsupported field selector: %v, want BadRequest", err)
	}
	_, err = pods.List(ctx(t), metav1.ListOptions{LabelSelector: "tier in (web"})
	if !apierrors.IsBadRequest(err) {
		t.Fatalf("malformed label selector: %v, want BadRequest", err)
	}
}

func TestPaging(t *testing.T) {
	ns := newNamespace(t)
	cms := cluster.client.CoreV1().ConfigMaps(ns)
	waitRootCA(t, ns) // so the namespace holds 26 ConfigMaps from the start
	for i := 0; i < 25; i++ {
		if _, err := cms.Create(ctx(t), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%02d", i)}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	opts := metav1.ListOptions{Limit: 10}
	pages := 0
	firstRV := ""
	for {
		list, err := cms.List(ctx(t), opts)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if firstRV == "" {
			firstRV = list.ResourceVersion
			if list.RemainingItemCount == nil || *list.RemainingItemCount != 16 {
				t.Errorf("remainingItemCount = %v, want 16", list.RemainingItemCount)
			}
			// A write between pages must not show up in later pages.
			if _, err := cms.Create(ctx(t), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm-99"}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		} else if list.ResourceVersion != firstRV {
			t.Errorf("page rv %s, want the first page's %s", list.ResourceVersion, firstRV)
		}
		for _, cm := range list.Items {
			names = append(names, cm.Name)
		}
		if list.Continue == "" {
			break
		}
		opts.Continue = list.Continue
	}
	if pages != 3 || len(names) != 26 {
		t.Fatalf("%d pages, %d items; want 3 and 26: %v", pages, len(names), names)
	}
	_, err := cms.List(ctx(t), metav1.ListOptions{Limit: 10, Continue: "not-a-token"})
	if !apierrors.IsBadRequest(err) {
		t.Fatalf("bad continue token: %v, want BadRequest", err)
	}
}

func nextEvent(t *testing.T, w watch.Interface) watch.Event {
	t.Helper()
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatal("watch closed")
			}
			if ev.Type == watch.Bookmark {
				continue
			}
			return ev
		case <-time.After(10 * time.Second):
			t.Fatal("no watch event in 10s")
		}
	}
}

// Watches work the same in JSON and in protobuf (the encoding tug's own
// components use).
func TestWatchResumeFromResourceVersion(t *testing.T) {
	for name, client := range encodings(t) {
		t.Run(name, func(t *testing.T) { testWatchResume(t, client) })
	}
}

func testWatchResume(t *testing.T, client kubernetes.Interface) {
	ns := newNamespace(t)
	cms := client.CoreV1().ConfigMaps(ns)
	cm, err := cms.Create(ctx(t), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "w"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	from := cm.ResourceVersion
	cm.Data = map[string]string{"step": "1"}
	if cm, err = cms.Update(ctx(t), cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(ctx(t), "w", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	w, err := cms.Watch(ctx(t), metav1.ListOptions{ResourceVersion: from, FieldSelector: notRootCA})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ev := nextEvent(t, w)
	if ev.Type != watch.Modified || ev.Object.(*corev1.ConfigMap).Data["step"] != "1" {
		t.Fatalf("first event %s %+v, want MODIFIED step=1", ev.Type, ev.Object)
	}
	if ev = nextEvent(t, w); ev.Type != watch.Deleted {
		t.Fatalf("second event %s, want DELETED", ev.Type)
	}
	// Changes after the watch started arrive too.
	if _, err := cms.Create(ctx(t), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "w2"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if ev = nextEvent(t, w); ev.Type != watch.Added || ev.Object.(*corev1.ConfigMap).Name != "w2" {
		t.Fatalf("third event %s %+v, want ADDED w2", ev.Type, ev.Object)
	}
}

func TestWatchTooOldIsGone(t *testing.T) {
	for name, client := range encodings(t) {
		t.Run(name, func(t *testing.T) { testWatchTooOld(t, client) })
	}
}

func testWatchTooOld(t *testing.T, client kubernetes.Interface) {
	ns := newNamespace(t)
	leases := client.CoordinationV1().Leases(ns)
	var first string
	// More writes than the watch cache keeps push the first one out.
	for i := 0; i < watchCacheSize+20; i++ {
		l, err := leases.Create(ctx(t), &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("l%d", i)}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if first == "" {
			first = l.ResourceVersion
		}
	}
	w, err := leases.Watch(ctx(t), metav1.ListOptions{ResourceVersion: first})
	if err != nil {
		if !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
			t.Fatalf("watch from rv 1: %v, want 410", err)
		}
		return
	}
	defer w.Stop()
	ev := <-w.ResultChan()
	st, ok := ev.Object.(*metav1.Status)
	if ev.Type != watch.Error || !ok || st.Code != 410 {
		t.Fatalf("watch from rv 1 gave %s %+v, want ERROR 410", ev.Type, ev.Object)
	}
}

func TestWatchBookmarksAndSelectors(t *testing.T) {
	ns := newNamespace(t)
	pods := cluster.client.CoreV1().Pods(ns)
	list, err := pods.List(ctx(t), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := pods.Watch(ctx(t), metav1.ListOptions{ResourceVersion: list.ResourceVersion, AllowWatchBookmarks: true,
		LabelSelector: "app=watched"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if _, err := pods.Create(ctx(t), pod("other", "", map[string]string{"app": "other"}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Create(ctx(t), pod("mine", "", map[string]string{"app": "watched"}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sawBookmark, sawMine := false, false
	deadline := time.After(15 * time.Second)
	for !sawBookmark || !sawMine {
		select {
		case ev := <-w.ResultChan():
			switch ev.Type {
			case watch.Bookmark:
				rv, err := strconv.ParseUint(ev.Object.(*corev1.Pod).ResourceVersion, 10, 64)
				if err != nil || rv == 0 {
					t.Fatalf("bookmark without resourceVersion: %+v", ev.Object)
				}
				sawBookmark = true
			case watch.Added, watch.Modified:
				// The scheduler may record why the pod waits: MODIFIED.
				if p := ev.Object.(*corev1.Pod); p.Name != "mine" {
					t.Fatalf("selector let %s through", p.Name)
				}
				sawMine = sawMine || ev.Type == watch.Added
			default:
				t.Fatalf("unexpected event %s", ev.Type)
			}
		case <-deadline:
			t.Fatalf("bookmark seen %v, selected pod seen %v", sawBookmark, sawMine)
		}
	}
}
