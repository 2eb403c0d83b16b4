package registry

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
)

func testPVC() *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: objectMeta("data"),
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: ptr.To("local"),
			Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			},
		},
	}
}

func TestPersistentVolumeClaimCreate(t *testing.T) {
	r := coreResource(t, "persistentvolumeclaims")
	tests := []struct {
		name   string
		mutate func(*corev1.PersistentVolumeClaim)
		want   []string
	}{
		{"valid", func(*corev1.PersistentVolumeClaim) {}, nil},
		{"no access modes", func(c *corev1.PersistentVolumeClaim) { c.Spec.AccessModes = nil },
			[]string{"spec.accessModes: Required value: at least 1 access mode is required"}},
		{"no storage request", func(c *corev1.PersistentVolumeClaim) { c.Spec.Resources.Requests = nil },
			[]string{"spec.resources[storage]: Required value: "}},
		{"zero storage", func(c *corev1.PersistentVolumeClaim) {
			c.Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("0")
		}, []string{"spec.resources[storage]: Invalid value: must be greater than zero"}},
		{"access mode", func(c *corev1.PersistentVolumeClaim) {
			c.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{"ReadSometimes"}
		},
			[]string{`spec.accessModes: Unsupported value: supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"`}},
	}
	for _, tt := range tests {
		pvc := testPVC()
		tt.mutate(pvc)
		checkErrors(t, tt.name, createErrors(r, pvc), tt.want)
	}
	pvc := testPVC()
	pvc.Status.Phase = corev1.ClaimBound
	createErrors(r, pvc)
	if pvc.Status.Phase != corev1.ClaimPending || ptr.Deref(pvc.Spec.VolumeMode, "") != corev1.PersistentVolumeFilesystem {
		t.Errorf("after create: phase %q, volumeMode %v", pvc.Status.Phase, pvc.Spec.VolumeMode)
	}
}

func TestPersistentVolumeClaimUpdate(t *testing.T) {
	r := coreResource(t, "persistentvolumeclaims")
	pending := testPVC()
	bound := mutated(pending, func(c *corev1.PersistentVolumeClaim) {
		c.Spec.VolumeName = "pv-1"
		c.Status.Phase = corev1.ClaimBound
	})
	immutable := "spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"
	grow := func(c *corev1.PersistentVolumeClaim) {
		c.Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("5Gi")
	}
	tests := []struct {
		name   string
		old    *corev1.PersistentVolumeClaim
		mutate func(*corev1.PersistentVolumeClaim)
		want   []string
	}{
		{"bind", pending, func(c *corev1.PersistentVolumeClaim) { c.Spec.VolumeName = "pv-1" }, nil},
		{"rebind", bound, func(c *corev1.PersistentVolumeClaim) { c.Spec.VolumeName = "pv-2" }, []string{immutable}},
		{"grow bound", bound, grow, nil},
		{"grow pending", pending, grow, []string{immutable}},
		{"shrink bound", bound, func(c *corev1.PersistentVolumeClaim) {
			c.Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("500Mi")
		}, []string{"spec.resources.requests.storage: Forbidden: field can not be less than previous value"}},
		{"class change", bound, func(c *corev1.PersistentVolumeClaim) { c.Spec.StorageClassName = ptr.To("fast") }, []string{immutable}},
	}
	for _, tt := range tests {
		pvc := tt.old.DeepCopy()
		tt.mutate(pvc)
		checkErrors(t, tt.name, updateErrors(r, pvc, tt.old.DeepCopy()), tt.want)
	}
}

func TestPersistentVolumeClaimTable(t *testing.T) {
	r := coreResource(t, "persistentvolumeclaims")
	want := []string{"NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "AGE", "VOLUMEMODE*"}
	if diff := cmp.Diff(want, columnNames(r)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	pvc := testPVC()
	r.Default(pvc)
	checkRow(t, r, pvc, []any{"data", "Pending", "", "", "", "local", "<unset>", "AGE", "Filesystem"})
	pvc.Spec.VolumeName = "pv-1"
	pvc.Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound, AccessModes: pvc.Spec.AccessModes,
		Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")}}
	checkRow(t, r, pvc, []any{"data", "Bound", "pv-1", "10Gi", "RWO", "local", "<unset>", "AGE", "Filesystem"})
}
