package controller

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

func TestActiveNamespace(t *testing.T) {
	now := metav1.Now()
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	for _, ns := range []*corev1.Namespace{
		{ObjectMeta: metav1.ObjectMeta{Name: "live"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "deleting", DeletionTimestamp: &now}},
		{ObjectMeta: metav1.ObjectMeta{Name: "terminating"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}},
	} {
		if err := idx.Add(ns); err != nil {
			t.Fatal(err)
		}
	}
	lister := corelisters.NewNamespaceLister(idx)
	for name, want := range map[string]bool{"live": true, "deleting": false, "terminating": false, "missing": false} {
		if got, err := ActiveNamespace(lister, name); got != want || err != nil {
			t.Errorf("ActiveNamespace(%s) = %v, %v; want %v", name, got, err, want)
		}
	}
}
