package volumebinding

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Event reasons and messages on claims, as Kubernetes writes them.
const (
	reasonWaitForFirstConsumer = "WaitForFirstConsumer"
	reasonExternalProvisioning = "ExternalProvisioning"
	reasonFailedBinding        = "FailedBinding"
	reasonProvisioningFailed   = "ProvisioningFailed"
	reasonVolumeMismatch       = "VolumeMismatch"
	reasonClaimLost            = "ClaimLost"
	reasonClaimMisbound        = "ClaimMisbound"

	msgWaitForFirstConsumer = "waiting for first consumer to be created before binding"
	msgNoClass              = "no persistent volumes available for this claim and no storage class is set"
)

// syncClaim drives one claim towards Bound.
func (c *Controller) syncClaim(ctx context.Context, namespace, name string) error {
	pvc, err := c.claims.PersistentVolumeClaims(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if pvc.Spec.VolumeName == "" {
		return c.syncUnboundClaim(ctx, pvc)
	}
	return c.syncBoundClaim(ctx, pvc)
}

// syncUnboundClaim finds a volume for a claim without volumeName, or asks
// the class's provisioner for one.
func (c *Controller) syncUnboundClaim(ctx context.Context, pvc *corev1.PersistentVolumeClaim) error {
	if pvc.DeletionTimestamp != nil {
		return nil
	}
	className, class := ResolveClass(pvc, c.classes)
	waits := WaitsForConsumer(class)
	selected := pvc.Annotations[AnnSelectedNode]
	var node *corev1.Node
	if waits && selected != "" {
		node = c.nodeNamed(selected)
	}
	pvs, err := c.volumes.List(labels.Everything())
	if err != nil {
		return err
	}
	pv, err := FindBestMatch(pvc, className, pvs, node, waits && node == nil)
	if err != nil {
		return err
	}
	if pv != nil {
		return c.bind(ctx, pv, pvc)
	}
	switch {
	case waits && selected == "":
		c.events.Event(pvc, corev1.EventTypeNormal, reasonWaitForFirstConsumer, msgWaitForFirstConsumer)
	case className == "":
		c.events.Event(pvc, corev1.EventTypeNormal, reasonFailedBinding, msgNoClass)
	case class == nil:
		c.events.Eventf(pvc, corev1.EventTypeWarning, reasonProvisioningFailed, "storageclass.storage.k8s.io %q not found", className)
	case class.Provisioner == NoProvisioner || class.Provisioner == "":
		c.events.Eventf(pvc, corev1.EventTypeNormal, reasonFailedBinding,
			"no persistent volumes available for this claim and storage class %q has no provisioner", className)
	default:
		if err := c.requestProvisioning(ctx, pvc, class); err != nil {
			return err
		}
	}
	return c.setClaimPending(ctx, pvc)
}

// requestProvisioning hands the claim to its class's provisioner by
// annotating it, as the external provisioner protocol expects.
func (c *Controller) requestProvisioning(ctx context.Context, pvc *corev1.PersistentVolumeClaim, class *storagev1.StorageClass) error {
	if pvc.Annotations[AnnStorageProvisioner] == class.Provisioner && pvc.Annotations[AnnBetaStorageProvisioner] == class.Provisioner {
		return nil
	}
	cur := pvc.DeepCopy()
	if cur.Annotations == nil {
		cur.Annotations = map[string]string{}
	}
	cur.Annotations[AnnStorageProvisioner] = class.Provisioner
	cur.Annotations[AnnBetaStorageProvisioner] = class.Provisioner
	if _, err := c.client.CoreV1().PersistentVolumeClaims(pvc.Namespace).Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("annotate claim %s/%s for provisioning: %w", pvc.Namespace, pvc.Name, err)
	}
	c.events.Eventf(pvc, corev1.EventTypeNormal, reasonExternalProvisioning,
		"waiting for a volume to be created, either by external provisioner %q or manually created by system administrator", class.Provisioner)
	return nil
}

// syncBoundClaim finishes or checks the binding of a claim that names its
// volume.
func (c *Controller) syncBoundClaim(ctx context.Context, pvc *corev1.PersistentVolumeClaim) error {
	completed := pvc.Annotations[AnnBindCompleted] != ""
	pv, err := c.volumeNamed(ctx, pvc.Spec.VolumeName)
	if err != nil {
		return err
	}
	if pv == nil {
		if !completed {
			// Pre-bound by the user to a volume that does not exist yet.
			return c.setClaimPending(ctx, pvc)
		}
		if pvc.Status.Phase == corev1.ClaimLost {
			return nil
		}
		c.events.Event(pvc, corev1.EventTypeWarning, reasonClaimLost, "Bound claim has lost its PersistentVolume. Data on the volume is lost!")
		return c.setClaimPhase(ctx, pvc, corev1.ClaimLost)
	}
	switch {
	case pv.Spec.ClaimRef == nil:
		className := ClaimClass(pvc, c.classes)
		if err := CheckSatisfies(pvc, className, pv); err != nil {
			c.events.Eventf(pvc, corev1.EventTypeWarning, reasonVolumeMismatch, "Cannot bind to requested volume %q: %v", pv.Name, err)
			return c.setClaimPending(ctx, pvc)
		}
		return c.bind(ctx, pv, pvc)
	case boundToClaim(pv, pvc):
		return c.bind(ctx, pv, pvc)
	case completed:
		if pvc.Status.Phase == corev1.ClaimLost {
			return nil
		}
		c.events.Event(pvc, corev1.EventTypeWarning, reasonClaimMisbound, "Two claims are bound to the same volume, this one is bound incorrectly")
		return c.setClaimPhase(ctx, pvc, corev1.ClaimLost)
	default:
		c.events.Eventf(pvc, corev1.EventTypeWarning, reasonFailedBinding, "volume %q already bound to a different claim.", pv.Name)
		return c.setClaimPending(ctx, pvc)
	}
}

// nodeNamed returns the node the scheduler selected; when it is not known
// (yet) a stand-in with the hostname label lets hostname affinity match.
func (c *Controller) nodeNamed(name string) *corev1.Node {
	if n, err := c.nodes.Get(name); err == nil {
		return n
	}
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelHostname: name}}}
}

// volumeNamed reads a volume from the cache, confirming with the API
// server before reporting it missing (nil).
func (c *Controller) volumeNamed(ctx context.Context, name string) (*corev1.PersistentVolume, error) {
	pv, err := c.volumes.Get(name)
	if err == nil {
		return pv, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, err
	}
	pv, err = c.client.CoreV1().PersistentVolumes().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get volume %s: %w", name, err)
	}
	return pv, nil
}

func (c *Controller) setClaimPending(ctx context.Context, pvc *corev1.PersistentVolumeClaim) error {
	return c.setClaimPhase(ctx, pvc, corev1.ClaimPending)
}

func (c *Controller) setClaimPhase(ctx context.Context, pvc *corev1.PersistentVolumeClaim, phase corev1.PersistentVolumeClaimPhase) error {
	if pvc.Status.Phase == phase {
		return nil
	}
	cur := pvc.DeepCopy()
	cur.Status.Phase = phase
	if _, err := c.client.CoreV1().PersistentVolumeClaims(pvc.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("set claim %s/%s %s: %w", pvc.Namespace, pvc.Name, phase, err)
	}
	return nil
}
