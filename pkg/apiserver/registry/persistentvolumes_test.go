package registry

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

func testPV() *corev1.PersistentVolume {
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "pv-1", CreationTimestamp: objectMeta("").CreationTimestamp},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")},
			AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/srv/pv-1"}},
			StorageClassName:       "local",
		},
	}
}

func TestPersistentVolumeCreate(t *testing.T) {
	r := coreResource(t, "persistentvolumes")
	pv := testPV()
	pv.Status.Phase = corev1.VolumeBound
	if errs := createErrors(r, pv); len(errs) != 0 {
		t.Fatalf("valid volume rejected: %v", errs)
	}
	if pv.Status.Phase != corev1.VolumePending || pv.Status.LastPhaseTransitionTime == nil {
		t.Errorf("status after create: %+v", pv.Status)
	}
	if pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain ||
		ptr.Deref(pv.Spec.VolumeMode, "") != corev1.PersistentVolumeFilesystem {
		t.Errorf("spec defaults: %+v", pv.Spec)
	}
}

// New claims and volumes carry their protection finalizer once, next to
// the user's.
func TestStorageProtectionFinalizers(t *testing.T) {
	kinds := []struct {
		resource  string
		finalizer string
		object    func(finalizers []string) metav1.Object
	}{
		{"persistentvolumeclaims", "kubernetes.io/pvc-protection", func(f []string) metav1.Object {
			pvc := testPVC()
			pvc.Finalizers = f
			return pvc
		}},
		{"persistentvolumes", "kubernetes.io/pv-protection", func(f []string) metav1.Object {
			pv := testPV()
			pv.Finalizers = f
			return pv
		}},
	}
	for _, k := range kinds {
		r := coreResource(t, k.resource)
		for _, tt := range []struct {
			name             string
			finalizers, want []string
		}{
			{"none", nil, []string{k.finalizer}},
			{"user's", []string{"example.test/hold"}, []string{"example.test/hold", k.finalizer}},
			{"already there", []string{k.finalizer}, []string{k.finalizer}},
		} {
			obj := k.object(tt.finalizers)
			if errs := createErrors(r, obj.(runtime.Object)); len(errs) != 0 {
				t.Fatalf("%s %s: %v", k.resource, tt.name, errs)
			}
			if diff := cmp.Diff(tt.want, obj.GetFinalizers()); diff != "" {
				t.Errorf("%s %s: finalizers (-want +got):\n%s", k.resource, tt.name, diff)
			}
		}
	}
}

func TestPersistentVolumeValidation(t *testing.T) {
	r := coreResource(t, "persistentvolumes")
	tests := []struct {
		name   string
		mutate func(*corev1.PersistentVolume)
		want   []string
	}{
		{"no capacity", func(pv *corev1.PersistentVolume) { pv.Spec.Capacity = nil }, []string{"spec.capacity: Required value: "}},
		{"capacity other than storage", func(pv *corev1.PersistentVolume) { pv.Spec.Capacity[corev1.ResourceCPU] = resource.MustParse("1") },
			[]string{`spec.capacity[cpu]: Unsupported value: supported values: "storage"`}},
		{"no access modes", func(pv *corev1.PersistentVolume) { pv.Spec.AccessModes = nil },
			[]string{"spec.accessModes: Required value: at least 1 access mode is required"}},
		{"ReadWriteOncePod mixed", func(pv *corev1.PersistentVolume) {
			pv.Spec.AccessModes = append(pv.Spec.AccessModes, corev1.ReadWriteOncePod)
		},
			[]string{"spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes"}},
		{"no source", func(pv *corev1.PersistentVolume) { pv.Spec.PersistentVolumeSource = corev1.PersistentVolumeSource{} },
			[]string{"spec: Required value: must specify a volume type"}},
		{"two sources", func(pv *corev1.PersistentVolume) { pv.Spec.NFS = &corev1.NFSVolumeSource{Server: "nfs", Path: "/x"} },
			[]string{"spec.nfs: Forbidden: may not specify more than 1 volume type"}},
		{"local without affinity", func(pv *corev1.PersistentVolume) {
			pv.Spec.HostPath = nil
			pv.Spec.Local = &corev1.LocalVolumeSource{Path: "/mnt/disk"}
		}, []string{"spec.nodeAffinity: Required value: Local volume requires node affinity"}},
	}
	for _, tt := range tests {
		pv := testPV()
		tt.mutate(pv)
		checkErrors(t, tt.name, createErrors(r, pv), tt.want)
	}

	old := testPV()
	checkErrors(t, "grow", updateErrors(r, mutated(old, func(pv *corev1.PersistentVolume) {
		pv.Spec.Capacity[corev1.ResourceStorage] = resource.MustParse("20Gi")
	}), old.DeepCopy()), nil)
	checkErrors(t, "move", updateErrors(r, mutated(old, func(pv *corev1.PersistentVolume) { pv.Spec.HostPath.Path = "/other" }), old.DeepCopy()),
		[]string{"spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation"})
}

func TestPersistentVolumeStatusUpdate(t *testing.T) {
	r := coreResource(t, "persistentvolumes")
	old := testPV()
	r.Default(old)
	r.PrepareForCreate(old)
	pv := old.DeepCopy()
	pv.Status.Phase = corev1.VolumeAvailable
	pv.Status.LastPhaseTransitionTime = nil
	r.PrepareForStatusUpdate(pv, old)
	if pv.Status.LastPhaseTransitionTime == nil {
		t.Error("phase change did not record lastPhaseTransitionTime")
	}
	checkErrors(t, "phase", r.ValidateStatusUpdate(mutated(pv, func(p *corev1.PersistentVolume) { p.Status.Phase = "Lost" }), old),
		[]string{`status.phase: Unsupported value: supported values: "Available", "Bound", "Failed", "Pending", "Released"`})
}

func TestPersistentVolumeTable(t *testing.T) {
	r := coreResource(t, "persistentvolumes")
	want := []string{"NAME", "CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "REASON", "AGE", "VOLUMEMODE*"}
	if diff := cmp.Diff(want, columnNames(r)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	pv := testPV()
	r.Default(pv)
	pv.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany, corev1.ReadWriteOnce}
	pv.Spec.ClaimRef = &corev1.ObjectReference{Namespace: "default", Name: "data"}
	pv.Status.Phase = corev1.VolumeBound
	checkRow(t, r, pv, []any{"pv-1", "10Gi", "RWO,RWX", "Retain", "Bound", "default/data", "local", "<unset>", "", "AGE", "Filesystem"})
}
