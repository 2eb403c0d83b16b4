package volumebinding

import (
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/labels"
	storagelisters "k8s.io/client-go/listers/storage/v1"
)

// Annotations of the binding protocol, as Kubernetes names them.
const (
	// AnnBindCompleted on a claim: the binder finished binding it.
	AnnBindCompleted = "pv.kubernetes.io/bind-completed"
	// AnnBoundByController on a claim or volume: the binder, not the user,
	// set its side of the binding (volumeName or claimRef).
	AnnBoundByController = "pv.kubernetes.io/bound-by-controller"
	// AnnDynamicallyProvisioned on a volume names the provisioner that
	// created it.
	AnnDynamicallyProvisioned = "pv.kubernetes.io/provisioned-by"
	// AnnStorageProvisioner on a claim names the provisioner asked to
	// create its volume.
	AnnStorageProvisioner = "volume.kubernetes.io/storage-provisioner"
	// AnnBetaStorageProvisioner is the older name of AnnStorageProvisioner,
	// still written for provisioners that read only it.
	AnnBetaStorageProvisioner = "volume.beta.kubernetes.io/storage-provisioner"
	// AnnSelectedNode on a claim is where the scheduler placed the first
	// pod using it.
	AnnSelectedNode = "volume.kubernetes.io/selected-node"
	// AnnDefaultClass marks the StorageClass used by claims that name none.
	AnnDefaultClass = "storageclass.kubernetes.io/is-default-class"
	// NoProvisioner is the provisioner of classes whose volumes are only
	// ever created by hand.
	NoProvisioner = "kubernetes.io/no-provisioner"
)

// DefaultClass returns the default StorageClass, or nil when there is
// none. With several, the most recently created one wins (ties broken by
// name), as in Kubernetes.
func DefaultClass(classes []*storagev1.StorageClass) *storagev1.StorageClass {
	var best *storagev1.StorageClass
	for _, sc := range classes {
		if sc.Annotations[AnnDefaultClass] != "true" || sc.DeletionTimestamp != nil {
			continue
		}
		if best == nil || best.CreationTimestamp.Before(&sc.CreationTimestamp) ||
			(best.CreationTimestamp.Equal(&sc.CreationTimestamp) && sc.Name < best.Name) {
			best = sc
		}
	}
	return best
}

// ClaimClass returns the class name a claim asks for: its
// storageClassName, else the beta annotation, else (unset, as the
// DefaultStorageClass admission would fill it in) the default class. An
// explicit "" means "no class" and stays "".
func ClaimClass(pvc *corev1.PersistentVolumeClaim, classes storagelisters.StorageClassLister) string {
	if pvc.Spec.StorageClassName != nil {
		return *pvc.Spec.StorageClassName
	}
	if name, ok := pvc.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		return name
	}
	all, err := classes.List(labels.Everything())
	if err != nil {
		return ""
	}
	if sc := DefaultClass(all); sc != nil {
		return sc.Name
	}
	return ""
}

// ResolveClass returns the claim's class name and the class object (nil
// when the claim has no class or the class does not exist).
func ResolveClass(pvc *corev1.PersistentVolumeClaim, classes storagelisters.StorageClassLister) (string, *storagev1.StorageClass) {
	name := ClaimClass(pvc, classes)
	if name == "" {
		return "", nil
	}
	sc, err := classes.Get(name)
	if err != nil {
		return name, nil
	}
	return name, sc
}

// VolumeClass is the class a volume belongs to: spec.storageClassName or
// the older beta annotation.
func VolumeClass(pv *corev1.PersistentVolume) string {
	if pv.Spec.StorageClassName != "" {
		return pv.Spec.StorageClassName
	}
	return pv.Annotations[corev1.BetaStorageClassAnnotation]
}

// WaitsForConsumer reports whether claims of the class bind only once a
// pod using them was scheduled.
func WaitsForConsumer(sc *storagev1.StorageClass) bool {
	return sc != nil && sc.VolumeBindingMode != nil && *sc.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer
}

// ProvisionerOf returns the provisioner a claim was handed to.
func ProvisionerOf(pvc *corev1.PersistentVolumeClaim) string {
	if p := pvc.Annotations[AnnStorageProvisioner]; p != "" {
		return p
	}
	return pvc.Annotations[AnnBetaStorageProvisioner]
}
