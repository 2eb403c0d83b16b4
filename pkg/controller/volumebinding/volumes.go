package volumebinding

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Event reasons on volumes, as Kubernetes writes them.
const (
	reasonVolumeFailedRecycle = "VolumeFailedRecycle"
	reasonVolumeFailedDelete  = "VolumeFailedDelete"

	msgNoRecycler = "No recycler plugin found for the volume!"
)

// syncVolume keeps a volume's phase in line with its claim: Available
// while free (or reserved for a claim not bound yet), Bound while its
// claim names it, Released once the claim is gone, and then applies the
// reclaim policy.
func (c *Controller) syncVolume(ctx context.Context, name string) error {
	pv, err := c.volumes.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if pv.DeletionTimestamp != nil {
		return c.syncDeletedVolume(ctx, pv)
	}
	ref := pv.Spec.ClaimRef
	if ref == nil || ref.UID == "" {
		// Free, or reserved by the user for a claim the claim sync binds.
		_, err := c.setVolumePhase(ctx, pv, corev1.VolumeAvailable, "")
		return err
	}
	pvc, err := c.claimOf(ctx, ref)
	if err != nil {
		return err
	}
	switch {
	case pvc == nil:
		return c.release(ctx, pv)
	case pvc.Spec.VolumeName == "":
		// Half-way through binding; the claim sync finishes it.
		return nil
	case pvc.Spec.VolumeName == pv.Name:
		_, err := c.setVolumePhase(ctx, pv, corev1.VolumeBound, "")
		return err
	case pv.Annotations[AnnDynamicallyProvisioned] != "" && pv.Spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimDelete:
		// Provisioned for a claim that went elsewhere: nobody else can use it.
		return c.release(ctx, pv)
	case pv.Annotations[AnnBoundByController] != "":
		return c.unbind(ctx, pv)
	default:
		// The user pointed the volume at a claim bound elsewhere; leave it.
		return nil
	}
}

// syncDeletedVolume marks a deleted Bound volume Released once its claim
// is gone, as Kubernetes does, so the pv-protection finalizer can come off;
// the reclaim policy no longer applies to a volume being deleted.
func (c *Controller) syncDeletedVolume(ctx context.Context, pv *corev1.PersistentVolume) error {
	ref := pv.Spec.ClaimRef
	if pv.Status.Phase != corev1.VolumeBound || ref == nil || ref.UID == "" {
		return nil
	}
	pvc, err := c.claimOf(ctx, ref)
	if err != nil || pvc != nil {
		return err
	}
	_, err = c.setVolumePhase(ctx, pv, corev1.VolumeReleased, "")
	return err
}

// claimOf returns the claim a claimRef names, or nil when it no longer
// exists (a claim of the same name but another UID counts as gone). The
// API server is asked before a claim is declared gone, so a cache that
// has not seen a new claim yet never releases its volume.
func (c *Controller) claimOf(ctx context.Context, ref *corev1.ObjectReference) (*corev1.PersistentVolumeClaim, error) {
	pvc, err := c.claims.PersistentVolumeClaims(ref.Namespace).Get(ref.Name)
	if err == nil && pvc.UID == ref.UID {
		return pvc, nil
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, err
	}
	pvc, err = c.client.CoreV1().PersistentVolumeClaims(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("get claim %s/%s: %w", ref.Namespace, ref.Name, err)
	case pvc.UID != ref.UID:
		return nil, nil
	}
	return pvc, nil
}

// release marks the volume Released and applies its reclaim policy.
func (c *Controller) release(ctx context.Context, pv *corev1.PersistentVolume) error {
	if pv.Status.Phase == corev1.VolumeFailed {
		return nil
	}
	if pv.Status.Phase != corev1.VolumeReleased {
		var err error
		if pv, err = c.setVolumePhase(ctx, pv, corev1.VolumeReleased, ""); err != nil {
			return err
		}
		c.log.Info("volume released", "volume", pv.Name, "policy", pv.Spec.PersistentVolumeReclaimPolicy)
	}
	switch pv.Spec.PersistentVolumeReclaimPolicy {
	case corev1.PersistentVolumeReclaimRecycle:
		c.events.Event(pv, corev1.EventTypeWarning, reasonVolumeFailedRecycle, msgNoRecycler)
		_, err := c.setVolumePhase(ctx, pv, corev1.VolumeFailed, msgNoRecycler)
		return err
	case corev1.PersistentVolumeReclaimDelete:
		if pv.Annotations[AnnDynamicallyProvisioned] != "" {
			// Its provisioner deletes it (for local-path, the agent of
			// the volume's node).
			return nil
		}
		msg := fmt.Sprintf("error getting deleter volume plugin for volume %q: no deletable volume plugin matched", pv.Name)
		c.events.Event(pv, corev1.EventTypeWarning, reasonVolumeFailedDelete, msg)
		_, err := c.setVolumePhase(ctx, pv, corev1.VolumeFailed, msg)
		return err
	default:
		// Retain: the data stays until an administrator deals with it.
		return nil
	}
}

// unbind frees a volume the binder had given to a claim that is bound
// elsewhere.
func (c *Controller) unbind(ctx context.Context, pv *corev1.PersistentVolume) error {
	cur := pv.DeepCopy()
	cur.Spec.ClaimRef = nil
	delete(cur.Annotations, AnnBoundByController)
	out, err := c.client.CoreV1().PersistentVolumes().Update(ctx, cur, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("unbind volume %s: %w", pv.Name, err)
	}
	_, err = c.setVolumePhase(ctx, out, corev1.VolumeAvailable, "")
	return err
}

// setVolumePhase writes the phase and message when they differ and
// returns the volume as it now is.
func (c *Controller) setVolumePhase(ctx context.Context, pv *corev1.PersistentVolume, phase corev1.PersistentVolumePhase,
	msg string) (*corev1.PersistentVolume, error) {
	if pv.Status.Phase == phase && pv.Status.Message == msg {
		return pv, nil
	}
	cur := pv.DeepCopy()
	cur.Status.Phase = phase
	cur.Status.Message = msg
	cur.Status.Reason = ""
	out, err := c.client.CoreV1().PersistentVolumes().UpdateStatus(ctx, cur, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("set volume %s %s: %w", pv.Name, phase, err)
	}
	return out, nil
}
