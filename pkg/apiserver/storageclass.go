package apiserver

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tugcluster/tug/pkg/storage"
)

const (
	defaultClassAnnotation     = "storageclass.kubernetes.io/is-default-class"
	betaStorageClassAnnotation = "volume.beta.kubernetes.io/storage-class"
)

// defaultStorageClass gives a new claim without a class the cluster's
// default StorageClass, as Kubernetes' DefaultStorageClass admission does:
// the newest class annotated as default wins; no default leaves it unset.
func (s *Server) defaultStorageClass(ctx context.Context, r *resource, obj runtime.Object) error {
	pvc, ok := obj.(*corev1.PersistentVolumeClaim)
	if !ok || r.Group != "" || r.Name != "persistentvolumeclaims" || pvc.Spec.StorageClassName != nil {
		return nil
	}
	if _, ok := pvc.Annotations[betaStorageClassAnnotation]; ok {
		return nil
	}
	classes := s.lookup("storage.k8s.io", "v1", "storageclasses")
	list := &storagev1.StorageClassList{}
	if err := classes.store.GetList(ctx, classes.prefix, storage.ListOptions{ResourceVersion: "0", Recursive: true}, list); err != nil {
		return err
	}
	var chosen *storagev1.StorageClass
	for i := range list.Items {
		c := &list.Items[i]
		if c.Annotations[defaultClassAnnotation] != "true" {
			continue
		}
		if chosen == nil || c.CreationTimestamp.After(chosen.CreationTimestamp.Time) ||
			(c.CreationTimestamp.Equal(&chosen.CreationTimestamp) && c.Name < chosen.Name) {
			chosen = c
		}
	}
	if chosen != nil {
		name := chosen.Name
		pvc.Spec.StorageClassName = &name
	}
	return nil
}
