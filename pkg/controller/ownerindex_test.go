package controller

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
)

// A controller reads its own pods and its namespace's orphans, not the
// pods of other controllers or namespaces.
func TestOwnedOrOrphaned(t *testing.T) {
	inf := informers.NewSharedInformerFactory(fake.NewClientset(), 0).Core().V1().Pods().Informer()
	if err := AddControllerUIDIndex(inf); err != nil {
		t.Fatal(err)
	}
	if err := AddControllerUIDIndex(inf); err != nil {
		t.Fatalf("second add: %v", err)
	}
	pod := func(ns, name, owner string, controls bool) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		if owner != "" {
			p.OwnerReferences = []metav1.OwnerReference{{UID: types.UID("uid-" + owner), Name: owner, Controller: &controls}}
		}
		return p
	}
	for _, p := range []*corev1.Pod{
		pod("a", "mine", "rs1", true), pod("a", "orphan", "", false), pod("a", "theirs", "rs2", true),
		pod("a", "owned-not-controlled", "rs1", false), pod("b", "other-ns-orphan", "", false),
	} {
		if err := inf.GetIndexer().Add(p); err != nil {
			t.Fatal(err)
		}
	}
	got, err := OwnedOrOrphaned[*corev1.Pod](inf.GetIndexer(), "a", "uid-rs1")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range got {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	if want := []string{"mine", "orphan", "owned-not-controlled"}; !slices.Equal(names, want) {
		t.Errorf("got %v, want %v", names, want)
	}
}
