package pvcprotection

import (
	"context"
	"log/slog"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"

	"github.com/tugcluster/tug/pkg/controller"
)

func testClaim(deleted bool, finalizers ...string) *corev1.PersistentVolumeClaim {
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "data", UID: "claim-uid",
		Finalizers: finalizers}}
	if deleted {
		pvc.DeletionTimestamp = &metav1.Time{}
	}
	return pvc
}

// newTestController returns a controller whose caches hold cached (not
// started informers) and whose API server holds live.
func newTestController(t *testing.T, cached, live []runtime.Object) (*Controller, *fake.Clientset) {
	t.Helper()
	client := fake.NewClientset(live...)
	factory := informers.NewSharedInformerFactory(client, 0)
	c, err := New(&controller.Context{Client: client, Informers: factory, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range cached {
		var err error
		switch obj.(type) {
		case *corev1.Pod:
			err = factory.Core().V1().Pods().Informer().GetIndexer().Add(obj)
		case *corev1.PersistentVolumeClaim:
			err = factory.Core().V1().PersistentVolumeClaims().Informer().GetIndexer().Add(obj)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return c.(*Controller), client
}

func TestSync(t *testing.T) {
	using := testPod("app", claimVolume("v", "data"))
	finished := testPod("app", claimVolume("v", "data"))
	finished.Status.Phase = corev1.PodSucceeded
	unrelated := testPod("other", claimVolume("v", "logs"))
	tests := []struct {
		name         string
		claim        *corev1.PersistentVolumeClaim
		cached, live []runtime.Object
		want         []string
	}{
		{"deleted, unused", testClaim(true, Finalizer), nil, []runtime.Object{unrelated}, nil},
		{"deleted, used by a cached pod", testClaim(true, Finalizer), []runtime.Object{using}, []runtime.Object{using}, []string{Finalizer}},
		// The cache is trusted to keep a claim, never to free it.
		{"deleted, used by a pod only the cache still has", testClaim(true, Finalizer), []runtime.Object{using}, nil, []string{Finalizer}},
		{"deleted, used by a pod not cached yet", testClaim(true, Finalizer), nil, []runtime.Object{using}, []string{Finalizer}},
		{"deleted, its pod finished", testClaim(true, Finalizer), []runtime.Object{finished}, []runtime.Object{finished}, nil},
		{"deleted, other finalizers stay", testClaim(true, "example.test/a", Finalizer, "example.test/b"), nil, nil,
			[]string{"example.test/a", "example.test/b"}},
		{"not deleted", testClaim(false, Finalizer), nil, nil, []string{Finalizer}},
		{"live claim from before the finalizer", testClaim(false, "example.test/a"), nil, nil, []string{"example.test/a", Finalizer}},
		{"deleted without the finalizer", testClaim(true, "example.test/a"), nil, nil, []string{"example.test/a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cached := append([]runtime.Object{tt.claim}, tt.cached...)
			live := append([]runtime.Object{tt.claim}, tt.live...)
			c, client := newTestController(t, cached, live)
			ctx := context.Background()
			if err := c.sync(ctx, cache.ObjectName{Namespace: "ns", Name: "data"}); err != nil {
				t.Fatal(err)
			}
			got, err := client.CoreV1().PersistentVolumeClaims("ns").Get(ctx, "data", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got.Finalizers, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("finalizers (-want +got):\n%s", diff)
			}
		})
	}
}

// A claim that is gone, from the cache or the API server, is no error.
func TestSyncGoneClaim(t *testing.T) {
	c, _ := newTestController(t, nil, nil)
	if err := c.sync(context.Background(), cache.ObjectName{Namespace: "ns", Name: "data"}); err != nil {
		t.Fatalf("claim missing from the cache: %v", err)
	}
	c, _ = newTestController(t, []runtime.Object{testClaim(true, Finalizer)}, nil)
	if err := c.sync(context.Background(), cache.ObjectName{Namespace: "ns", Name: "data"}); err != nil {
		t.Fatalf("claim missing from the API server: %v", err)
	}
}

// Pods wake the claims they may have been holding: when they go, finish,
// or are replaced under the same name; a running pod wakes nothing.
func TestPodEventsEnqueueClaims(t *testing.T) {
	c, _ := newTestController(t, nil, nil)
	pod := testPod("app", claimVolume("v", "data"), ephemeralVolume("cache"))
	finished := pod.DeepCopy()
	finished.Status.Phase = corev1.PodFailed
	replaced := testPod("app", claimVolume("v", "other"))
	replaced.UID = "new-uid"
	tests := []struct {
		name  string
		event func()
		want  []string
	}{
		{"added running", func() { c.podChanged(pod) }, nil},
		{"updated running", func() { c.podUpdated(pod, pod) }, nil},
		{"finished", func() { c.podUpdated(pod, finished) }, []string{"ns/app-cache", "ns/data"}},
		{"deleted", func() { c.podDeleted(pod) }, []string{"ns/app-cache", "ns/data"}},
		{"deleted, tombstone", func() { c.podDeleted(cache.DeletedFinalStateUnknown{Key: "ns/app", Obj: pod}) },
			[]string{"ns/app-cache", "ns/data"}},
		{"replaced", func() { c.podUpdated(pod, replaced) }, []string{"ns/app-cache", "ns/data"}},
	}
	for _, tt := range tests {
		tt.event()
		var got []string
		for c.queue.Len() > 0 {
			key, _ := c.queue.Get()
			got = append(got, key.String())
			c.queue.Done(key)
		}
		slices.Sort(got)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: queued (-want +got):\n%s", tt.name, diff)
		}
	}
}
