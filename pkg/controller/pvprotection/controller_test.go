package pvprotection

import (
	"context"
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/tugcluster/tug/pkg/controller"
)

// testVolume is a deleted volume with the finalizer, bound to ns/data.
func testVolume(phase corev1.PersistentVolumePhase) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "pv-1", DeletionTimestamp: &metav1.Time{}, Finalizers: []string{Finalizer}},
		Spec:       corev1.PersistentVolumeSpec{ClaimRef: &corev1.ObjectReference{Namespace: "ns", Name: "data", UID: "claim-uid"}},
		Status:     corev1.PersistentVolumeStatus{Phase: phase},
	}
}

// unprotectedVolume is a live volume created before volumes got the
// finalizer at admission.
func unprotectedVolume() *corev1.PersistentVolume {
	pv := testVolume(corev1.VolumeBound)
	pv.DeletionTimestamp, pv.Finalizers = nil, nil
	return pv
}

// newTestController returns a controller whose cache and API server both
// hold pv.
func newTestController(t *testing.T, pv *corev1.PersistentVolume) (*Controller, *fake.Clientset) {
	t.Helper()
	client := fake.NewClientset(pv)
	factory := informers.NewSharedInformerFactory(client, 0)
	c, err := New(&controller.Context{Client: client, Informers: factory, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := factory.Core().V1().PersistentVolumes().Informer().GetIndexer().Add(pv); err != nil {
		t.Fatal(err)
	}
	return c.(*Controller), client
}

func TestSync(t *testing.T) {
	notDeleted := testVolume(corev1.VolumeBound)
	notDeleted.DeletionTimestamp = nil
	otherFinalizers := testVolume(corev1.VolumeReleased)
	otherFinalizers.Finalizers = []string{"example.test/a", Finalizer}
	tests := []struct {
		name   string
		volume *corev1.PersistentVolume
		want   []string
	}{
		{"available", testVolume(corev1.VolumeAvailable), nil},
		{"pending", testVolume(corev1.VolumePending), nil},
		{"released", testVolume(corev1.VolumeReleased), nil},
		{"failed", testVolume(corev1.VolumeFailed), nil},
		{"bound", testVolume(corev1.VolumeBound), []string{Finalizer}},
		{"other finalizers stay", otherFinalizers, []string{"example.test/a"}},
		{"not deleted", notDeleted, []string{Finalizer}},
		{"live volume from before the finalizer", unprotectedVolume(), []string{Finalizer}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, client := newTestController(t, tt.volume)
			ctx := context.Background()
			if err := c.sync(ctx, "pv-1"); err != nil {
				t.Fatal(err)
			}
			got, err := client.CoreV1().PersistentVolumes().Get(ctx, "pv-1", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got.Finalizers, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("finalizers (-want +got):\n%s", diff)
			}
		})
	}
}

// A volume is queued only when it waits for this controller.
func TestEventsEnqueueVolumes(t *testing.T) {
	c, _ := newTestController(t, testVolume(corev1.VolumeBound))
	notDeleted := testVolume(corev1.VolumeBound)
	notDeleted.DeletionTimestamp = nil
	noFinalizer := testVolume(corev1.VolumeReleased)
	noFinalizer.Finalizers = nil
	for _, tt := range []struct {
		name string
		pv   *corev1.PersistentVolume
		want []string
	}{
		{"deleted volume", testVolume(corev1.VolumeReleased), []string{"pv-1"}},
		{"volume not deleted", notDeleted, nil},
		{"finalizer already gone", noFinalizer, nil},
		{"live volume from before the finalizer", unprotectedVolume(), []string{"pv-1"}},
	} {
		c.volumeChanged(tt.pv)
		var got []string
		for c.queue.Len() > 0 {
			key, _ := c.queue.Get()
			got = append(got, key)
			c.queue.Done(key)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: queued (-want +got):\n%s", tt.name, diff)
		}
	}
}
