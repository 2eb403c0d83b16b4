package garbagecollector

import (
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"

	"github.com/tugcluster/tug/pkg/controller"
)

// ownerIndex indexes objects by the UIDs of their owners.
const ownerIndex = "ownerUID"

// monitor is the metadata informer of one resource.
type monitor struct {
	resource controller.APIResource
	informer cache.SharedIndexInformer
}

func (c *Controller) newMonitor(r controller.APIResource) (*monitor, error) {
	inf := metadatainformer.NewFilteredMetadataInformer(c.metadata, r.GroupVersionResource, metav1.NamespaceAll, 0,
		cache.Indexers{ownerIndex: ownerUIDs}, nil).Informer()
	if err := inf.SetTransform(slim); err != nil {
		return nil, fmt.Errorf("garbage collector %s: %w", r.GroupResource(), err)
	}
	gvr := r.GroupVersionResource
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.added(gvr, obj) },
		UpdateFunc: func(old, obj any) { c.updated(gvr, old, obj) },
		DeleteFunc: func(obj any) { c.deleted(gvr, obj) },
	})
	if err != nil {
		return nil, fmt.Errorf("garbage collector %s: %w", r.GroupResource(), err)
	}
	return &monitor{resource: r, informer: inf}, nil
}

// slim keeps only the metadata the collector reads.
func slim(obj any) (any, error) {
	m, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return obj, nil
	}
	return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
		Name:              m.Name,
		Namespace:         m.Namespace,
		UID:               m.UID,
		ResourceVersion:   m.ResourceVersion,
		DeletionTimestamp: m.DeletionTimestamp,
		OwnerReferences:   m.OwnerReferences,
		Finalizers:        m.Finalizers,
	}}, nil
}

func ownerUIDs(obj any) ([]string, error) {
	m, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return nil, nil
	}
	uids := make([]string, 0, len(m.OwnerReferences))
	for _, ref := range m.OwnerReferences {
		uids = append(uids, string(ref.UID))
	}
	return uids, nil
}

func asMeta(obj any) (*metav1.PartialObjectMetadata, bool) {
	m, ok := controller.ObjectOf(obj).(*metav1.PartialObjectMetadata)
	return m, ok
}

func (c *Controller) added(gvr schema.GroupVersionResource, obj any) {
	m, ok := asMeta(obj)
	if !ok {
		return
	}
	if len(m.OwnerReferences) > 0 || deletingWithFinalizer(m) {
		c.queue.Add(item{resource: gvr, namespace: m.Namespace, name: m.Name})
	}
}

func (c *Controller) updated(gvr schema.GroupVersionResource, oldObj, obj any) {
	old, ok1 := asMeta(oldObj)
	m, ok2 := asMeta(obj)
	if !ok1 || !ok2 {
		return
	}
	deletionChanged := !old.DeletionTimestamp.Equal(m.DeletionTimestamp) || !slices.Equal(old.Finalizers, m.Finalizers)
	ownersChanged := !slices.EqualFunc(old.OwnerReferences, m.OwnerReferences, sameRef)
	if !deletionChanged && !ownersChanged {
		return
	}
	c.queue.Add(item{resource: gvr, namespace: m.Namespace, name: m.Name})
	if deletionChanged {
		c.enqueueOwners(m)
	}
	if ownersChanged {
		c.enqueueOwners(old) // an owner in foreground deletion may wait for this object no longer
	}
}

func (c *Controller) deleted(gvr schema.GroupVersionResource, obj any) {
	m, ok := asMeta(obj)
	if !ok {
		return
	}
	for _, d := range c.dependents(m.UID) {
		c.queue.Add(d.item)
	}
	c.enqueueOwners(m)
}

// enqueueOwners queues the owners of m that the collector can resolve.
func (c *Controller) enqueueOwners(m *metav1.PartialObjectMetadata) {
	for _, ref := range m.OwnerReferences {
		r, ok := c.resourceOf(ref.APIVersion, ref.Kind)
		if !ok {
			continue
		}
		ns := ""
		if r.Namespaced {
			ns = m.Namespace
		}
		c.queue.Add(item{resource: r.GroupVersionResource, namespace: ns, name: ref.Name})
	}
}

func sameRef(a, b metav1.OwnerReference) bool {
	return a.UID == b.UID && a.Name == b.Name && a.Kind == b.Kind && a.APIVersion == b.APIVersion &&
		(a.BlockOwnerDeletion != nil && *a.BlockOwnerDeletion) == (b.BlockOwnerDeletion != nil && *b.BlockOwnerDeletion)
}

func deletingWithFinalizer(m *metav1.PartialObjectMetadata) bool {
	return m.DeletionTimestamp != nil &&
		(controller.HasFinalizer(m, metav1.FinalizerOrphanDependents) || controller.HasFinalizer(m, metav1.FinalizerDeleteDependents))
}

// dependent is a cached object that names some owner.
type dependent struct {
	item
	meta *metav1.PartialObjectMetadata
}

// dependents returns the cached objects that name uid as an owner.
func (c *Controller) dependents(uid types.UID) []dependent {
	var out []dependent
	for gvr, m := range c.monitors {
		objs, err := m.informer.GetIndexer().ByIndex(ownerIndex, string(uid))
		if err != nil {
			continue
		}
		for _, obj := range objs {
			if d, ok := obj.(*metav1.PartialObjectMetadata); ok {
				out = append(out, dependent{item: item{resource: gvr, namespace: d.Namespace, name: d.Name}, meta: d})
			}
		}
	}
	return out
}

// cached returns an object from its resource's informer.
func (c *Controller) cached(it item) (*metav1.PartialObjectMetadata, bool) {
	m, ok := c.monitors[it.resource]
	if !ok {
		return nil, false
	}
	obj, exists, err := m.informer.GetIndexer().GetByKey(it.key())
	if err != nil || !exists {
		return nil, false
	}
	pm, ok := obj.(*metav1.PartialObjectMetadata)
	return pm, ok
}
