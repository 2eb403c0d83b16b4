package scheduler

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// VolumeLister reads claims, volumes and classes (from informers).
type VolumeLister interface {
	Claim(namespace, name string) (*corev1.PersistentVolumeClaim, error)
	Volume(name string) (*corev1.PersistentVolume, error)
	Class(name string) (*storagev1.StorageClass, error)
}

// volumePlan is what binding must do for the pod's claims: annotate
// unbound WaitForFirstConsumer claims with the chosen node.
type volumePlan struct {
	delayed []*corev1.PersistentVolumeClaim
}

// annotationSelectedNode tells a provisioner where the consumer of a
// WaitForFirstConsumer claim was scheduled.
const annotationSelectedNode = "volume.kubernetes.io/selected-node"

// volumeBinding keeps pods whose claims are bound to volumes with node
// affinity (local PVs) on the nodes those volumes allow. Unbound claims of
// a WaitForFirstConsumer class do not restrict the node: the provisioner
// follows the node chosen here.
type volumeBinding struct {
	lister  VolumeLister
	volumes []*corev1.PersistentVolume
	missing bool
}

func (f *volumeBinding) Name() string { return "VolumeBinding" }

func (f *volumeBinding) SetPod(c *cycle) (bool, error) {
	f.volumes, f.missing = f.volumes[:0], false
	if f.lister == nil {
		return false, nil
	}
	plan := &volumePlan{}
	pod := c.pod.Pod
	for _, v := range pod.Spec.Volumes {
		if v.PersistentVolumeClaim == nil {
			continue
		}
		name := v.PersistentVolumeClaim.ClaimName
		pvc, err := f.lister.Claim(pod.Namespace, name)
		if apierrors.IsNotFound(err) {
			return false, &PodError{Message: fmt.Sprintf("persistentvolumeclaim %q not found", name)}
		}
		if err != nil {
			return false, &PodError{Message: fmt.Sprintf("persistentvolumeclaim %q: %v", name, err)}
		}
		if pvc.DeletionTimestamp != nil {
			return false, &PodError{Message: fmt.Sprintf("persistentvolumeclaim %q is being deleted", name)}
		}
		if pvc.Spec.VolumeName == "" {
			if !f.waitsForConsumer(pvc) {
				return false, &PodError{Message: "pod has unbound immediate PersistentVolumeClaims"}
			}
			plan.delayed = append(plan.delayed, pvc)
			continue
		}
		pv, err := f.lister.Volume(pvc.Spec.VolumeName)
		if err != nil {
			f.missing = true
			continue
		}
		if pv.Spec.NodeAffinity != nil && pv.Spec.NodeAffinity.Required != nil {
			f.volumes = append(f.volumes, pv)
		}
	}
	c.volumes = plan
	return f.missing || len(f.volumes) > 0, nil
}

func (f *volumeBinding) waitsForConsumer(pvc *corev1.PersistentVolumeClaim) bool {
	class := ""
	if pvc.Spec.StorageClassName != nil {
		class = *pvc.Spec.StorageClassName
	}
	if class == "" {
		return false
	}
	sc, err := f.lister.Class(class)
	return err == nil && sc.VolumeBindingMode != nil && *sc.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer
}

func (f *volumeBinding) Check(n *NodeInfo) *Failure {
	if f.missing {
		return unresolvable(reasonVolumeMissingPV)
	}
	for _, pv := range f.volumes {
		if !matchNodeSelectorTerms(n.Node, pv.Spec.NodeAffinity.Required.NodeSelectorTerms) {
			return unresolvable(reasonVolumeAffinity)
		}
	}
	return nil
}
