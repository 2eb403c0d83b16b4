package garbagecollector

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugcluster/tug/pkg/controller"
)

// sync looks at one object; see the package documentation.
func (c *Controller) sync(ctx context.Context, it item) error {
	m, ok := c.cached(it)
	if !ok {
		return nil
	}
	switch {
	case m.DeletionTimestamp != nil && controller.HasFinalizer(m, metav1.FinalizerOrphanDependents):
		return c.orphanDependents(ctx, it, m)
	case m.DeletionTimestamp != nil && controller.HasFinalizer(m, metav1.FinalizerDeleteDependents):
		return c.deleteDependentsFirst(ctx, it, m)
	case m.DeletionTimestamp != nil || len(m.OwnerReferences) == 0:
		return nil
	default:
		return c.collectIfOwnerless(ctx, it, m)
	}
}

// orphanDependents removes the owner's references from its dependents,
// then the orphan finalizer from the owner.
func (c *Controller) orphanDependents(ctx context.Context, it item, owner *metav1.PartialObjectMetadata) error {
	for _, d := range c.dependents(owner.UID) {
		keep := slices.DeleteFunc(slices.Clone(d.meta.OwnerReferences), func(r metav1.OwnerReference) bool {
			return r.UID == owner.UID
		})
		if err := c.setOwnerReferences(ctx, d.item, d.meta, keep); err != nil {
			return err
		}
	}
	return c.removeFinalizer(ctx, it, owner, metav1.FinalizerOrphanDependents)
}

// deleteDependentsFirst has the dependents of an owner in foreground
// deletion deleted and drops the finalizer once none blocks the owner.
func (c *Controller) deleteDependentsFirst(ctx context.Context, it item, owner *metav1.PartialObjectMetadata) error {
	blocking := 0
	for _, d := range c.dependents(owner.UID) {
		if d.meta.DeletionTimestamp == nil {
			c.queue.Add(d.item)
		}
		for _, ref := range d.meta.OwnerReferences {
			if ref.UID == owner.UID && ref.BlockOwnerDeletion != nil && *ref.BlockOwnerDeletion {
				blocking++
			}
		}
	}
	if blocking > 0 {
		return nil // the dependents' deletions queue the owner again
	}
	return c.removeFinalizer(ctx, it, owner, metav1.FinalizerDeleteDependents)
}

// collectIfOwnerless deletes an object none of whose owners stands, and
// drops references to owners that are gone or going from an object that
// keeps another owner.
func (c *Controller) collectIfOwnerless(ctx context.Context, it item, m *metav1.PartialObjectMetadata) error {
	var solid, waiting int
	var keep []metav1.OwnerReference
	for _, ref := range m.OwnerReferences {
		s, err := c.ownerState(ctx, it, ref)
		if err != nil {
			return err
		}
		switch s {
		case ownerSolid:
			solid++
			keep = append(keep, ref)
		case ownerWaiting:
			waiting++
		}
	}
	if solid > 0 {
		if len(keep) == len(m.OwnerReferences) {
			return nil
		}
		return c.setOwnerReferences(ctx, it, m, keep)
	}
	policy := metav1.DeletePropagationBackground
	if waiting > 0 && len(c.dependents(m.UID)) > 0 {
		policy = metav1.DeletePropagationForeground
	}
	err := c.metadata.Resource(it.resource).Namespace(it.namespace).Delete(ctx, it.name, metav1.DeleteOptions{
		PropagationPolicy: &policy,
		Preconditions:     metav1.NewUIDPreconditions(string(m.UID)),
	})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil // gone, or replaced by a new object under the same name
	}
	if err != nil {
		return fmt.Errorf("delete %s %s: %w", it.resource.Resource, it.key(), err)
	}
	c.log.Debug("deleted object without owners", "resource", it.resource.String(), "object", it.key(), "propagation", policy)
	return nil
}

type ownerStatus int

const (
	ownerSolid    ownerStatus = iota // exists and is not being deleted in the foreground
	ownerWaiting                     // exists, deleting in the foreground: waits for its dependents
	ownerDangling                    // no object with this name and UID exists
)

// ownerState classifies one owner of the object it.
func (c *Controller) ownerState(ctx context.Context, it item, ref metav1.OwnerReference) (ownerStatus, error) {
	r, ok := c.resourceOf(ref.APIVersion, ref.Kind)
	if !ok {
		return ownerSolid, nil // unknown kind: never delete on uncertainty
	}
	owner := item{resource: r.GroupVersionResource, name: ref.Name}
	if r.Namespaced {
		if it.namespace == "" {
			c.events.Eventf(&corev1.ObjectReference{
				APIVersion: it.resource.GroupVersion().String(), Kind: c.kindOf(it), Name: it.name,
			}, corev1.EventTypeWarning, "OwnerRefInvalidNamespace",
				"ownerRef %s names a namespaced owner, which a cluster-scoped object cannot have", refString(ref))
			return ownerSolid, nil
		}
		owner.namespace = it.namespace
	}
	if m, ok := c.cached(owner); ok && m.UID == ref.UID {
		return stateOf(m), nil
	}
	// Not in the cache (or another object by that name): ask the API server
	// before deciding the owner is gone.
	live, err := c.metadata.Resource(owner.resource).Namespace(owner.namespace).Get(ctx, owner.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return ownerDangling, nil
	}
	if err != nil {
		return ownerSolid, fmt.Errorf("look up owner %s: %w", refString(ref), err)
	}
	if live.UID != ref.UID {
		return ownerDangling, nil
	}
	return stateOf(live), nil
}

func stateOf(m *metav1.PartialObjectMetadata) ownerStatus {
	if m.DeletionTimestamp != nil && controller.HasFinalizer(m, metav1.FinalizerDeleteDependents) {
		return ownerWaiting
	}
	return ownerSolid
}

func (c *Controller) kindOf(it item) string {
	if m, ok := c.monitors[it.resource]; ok {
		return m.resource.Kind
	}
	return ""
}

func refString(ref metav1.OwnerReference) string {
	return fmt.Sprintf("%s/%s %s (uid %s)", ref.APIVersion, ref.Kind, ref.Name, ref.UID)
}

// setOwnerReferences replaces an object's ownerReferences, failing with a
// conflict when the object changed since the cache saw it.
func (c *Controller) setOwnerReferences(ctx context.Context, it item, m *metav1.PartialObjectMetadata, refs []metav1.OwnerReference) error {
	var value any = refs
	if len(refs) == 0 {
		value = nil
	}
	return c.patchMetadata(ctx, it, m, "ownerReferences", value)
}

// removeFinalizer drops one finalizer; the API server finishes deleting an
// object whose last finalizer went.
func (c *Controller) removeFinalizer(ctx context.Context, it item, m *metav1.PartialObjectMetadata, finalizer string) error {
	keep := slices.DeleteFunc(slices.Clone(m.Finalizers), func(f string) bool { return f == finalizer })
	var value any = keep
	if len(keep) == 0 {
		value = nil
	}
	return c.patchMetadata(ctx, it, m, "finalizers", value)
}

// patchMetadata sets one metadata field with a merge patch that carries the
// cached uid and resourceVersion as preconditions.
func (c *Controller) patchMetadata(ctx context.Context, it item, m *metav1.PartialObjectMetadata, field string, value any) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"uid":             m.UID,
		"resourceVersion": m.ResourceVersion,
		field:             value,
	}})
	if err != nil {
		return err
	}
	_, err = c.metadata.Resource(it.resource).Namespace(it.namespace).Patch(ctx, it.name, types.MergePatchType, patch, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("patch %s of %s %s: %w", field, it.resource.Resource, it.key(), err)
	}
	return nil
}
