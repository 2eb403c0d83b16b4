package volumebinding

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// bind completes the binding of pv and pvc, each step only when needed so
// that a retried bind resumes where the last one stopped: the volume's
// claimRef, the volume's phase, the claim's volumeName and annotations, and
// the claim's status. The volume is written first; its resourceVersion
// keeps two claims from taking it at once.
func (c *Controller) bind(ctx context.Context, pv *corev1.PersistentVolume, pvc *corev1.PersistentVolumeClaim) error {
	pv, err := c.bindVolume(ctx, pv, pvc)
	if err != nil {
		return err
	}
	if pv.Status.Phase != corev1.VolumeBound {
		cur := pv.DeepCopy()
		cur.Status.Phase = corev1.VolumeBound
		cur.Status.Message, cur.Status.Reason = "", ""
		if pv, err = c.client.CoreV1().PersistentVolumes().UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("set volume %s Bound: %w", cur.Name, err)
		}
	}
	pvc, err = c.bindClaim(ctx, pv, pvc)
	if err != nil {
		return err
	}
	status := pvc.Status.DeepCopy()
	status.Phase = corev1.ClaimBound
	status.AccessModes = pv.Spec.AccessModes
	status.Capacity = corev1.ResourceList{}
	for name, q := range pv.Spec.Capacity {
		status.Capacity[name] = q
	}
	if apiequality.Semantic.DeepEqual(*status, pvc.Status) {
		return nil
	}
	cur := pvc.DeepCopy()
	cur.Status = *status
	if _, err := c.client.CoreV1().PersistentVolumeClaims(pvc.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("set claim %s/%s Bound: %w", pvc.Namespace, pvc.Name, err)
	}
	c.log.Info("bound claim", "claim", pvc.Namespace+"/"+pvc.Name, "volume", pv.Name)
	return nil
}

// bindVolume points the volume's claimRef at the claim.
func (c *Controller) bindVolume(ctx context.Context, pv *corev1.PersistentVolume, pvc *corev1.PersistentVolumeClaim) (*corev1.PersistentVolume, error) {
	ref := pv.Spec.ClaimRef
	if ref != nil && ref.Name == pvc.Name && ref.Namespace == pvc.Namespace && ref.UID == pvc.UID {
		return pv, nil
	}
	cur := pv.DeepCopy()
	if ref == nil {
		// Set by the binder rather than by the user who created the volume.
		if cur.Annotations == nil {
			cur.Annotations = map[string]string{}
		}
		cur.Annotations[AnnBoundByController] = "yes"
	}
	cur.Spec.ClaimRef = &corev1.ObjectReference{
		Kind: "PersistentVolumeClaim", APIVersion: "v1",
		Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID, ResourceVersion: pvc.ResourceVersion,
	}
	out, err := c.client.CoreV1().PersistentVolumes().Update(ctx, cur, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("bind volume %s to claim %s/%s: %w", pv.Name, pvc.Namespace, pvc.Name, err)
	}
	return out, nil
}

// bindClaim sets the claim's volumeName and the bind-completed annotation.
func (c *Controller) bindClaim(ctx context.Context, pv *corev1.PersistentVolume, pvc *corev1.PersistentVolumeClaim) (*corev1.PersistentVolumeClaim, error) {
	if pvc.Spec.VolumeName == pv.Name && pvc.Annotations[AnnBindCompleted] != "" {
		return pvc, nil
	}
	cur := pvc.DeepCopy()
	if cur.Annotations == nil {
		cur.Annotations = map[string]string{}
	}
	if cur.Spec.VolumeName != pv.Name {
		cur.Spec.VolumeName = pv.Name
		cur.Annotations[AnnBoundByController] = "yes"
	}
	cur.Annotations[AnnBindCompleted] = "yes"
	out, err := c.client.CoreV1().PersistentVolumeClaims(pvc.Namespace).Update(ctx, cur, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("bind claim %s/%s to volume %s: %w", pvc.Namespace, pvc.Name, pv.Name, err)
	}
	return out, nil
}
