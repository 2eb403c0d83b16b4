package localpath

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/pkg/controller/volumebinding"
)

// Class is the built-in StorageClass; it is marked default when asDefault.
func Class(asDefault bool) *storagev1.StorageClass {
	sc := &storagev1.StorageClass{
		ObjectMeta:        metav1.ObjectMeta{Name: ClassName},
		Provisioner:       Provisioner,
		ReclaimPolicy:     ptr.To(corev1.PersistentVolumeReclaimDelete),
		VolumeBindingMode: ptr.To(storagev1.VolumeBindingWaitForFirstConsumer),
	}
	if asDefault {
		sc.Annotations = map[string]string{volumebinding.AnnDefaultClass: "true"}
	}
	return sc
}

// ensureClass creates the local-path class when it is missing. It never
// changes an existing class, and does not mark the new one default when
// the cluster already has a default class.
func (c *Controller) ensureClass(ctx context.Context) error {
	if _, err := c.classes.Get(ClassName); err == nil {
		return nil
	}
	all, err := c.classes.List(labels.Everything())
	if err != nil {
		return err
	}
	asDefault := volumebinding.DefaultClass(all) == nil
	_, err = c.client.StorageV1().StorageClasses().Create(ctx, Class(asDefault), metav1.CreateOptions{})
	switch {
	case err == nil:
		c.log.Info("created storage class", "class", ClassName, "default", asDefault)
		return nil
	case apierrors.IsAlreadyExists(err):
		return nil
	default:
		return fmt.Errorf("create storage class %s: %w", ClassName, err)
	}
}
