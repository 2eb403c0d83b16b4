package registry

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/utils/ptr"
)

func testStorageClass() *storagev1.StorageClass {
	return &storagev1.StorageClass{ObjectMeta: objectMeta("local"), Provisioner: "tug.dev/local-path", Parameters: map[string]string{"root": "/var/lib/tug"}}
}

func TestStorageClass(t *testing.T) {
	r := groupResource(t, "storageclasses")
	sc := testStorageClass()
	checkErrors(t, "valid", createErrors(r, sc), nil)
	if diff := cmp.Diff([]any{corev1.PersistentVolumeReclaimDelete, storagev1.VolumeBindingImmediate},
		[]any{*sc.ReclaimPolicy, *sc.VolumeBindingMode}); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	cases := []struct {
		name   string
		mutate func(*storagev1.StorageClass)
		want   []string
	}{
		{"no provisioner", func(s *storagev1.StorageClass) { s.Provisioner = "" }, []string{"provisioner: Required value: "}},
		{"bad provisioner", func(s *storagev1.StorageClass) { s.Provisioner = "not a name" },
			[]string{"provisioner: Invalid value: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"}},
		{"reclaim recycle", func(s *storagev1.StorageClass) { s.ReclaimPolicy = ptr.To(corev1.PersistentVolumeReclaimRecycle) },
			[]string{`reclaimPolicy: Unsupported value: supported values: "Delete", "Retain"`}},
		{"binding mode", func(s *storagev1.StorageClass) { s.VolumeBindingMode = ptr.To(storagev1.VolumeBindingMode("Later")) },
			[]string{`volumeBindingMode: Unsupported value: supported values: "Immediate", "WaitForFirstConsumer"`}},
	}
	for _, c := range cases {
		checkErrors(t, c.name, createErrors(r, mutated(testStorageClass(), c.mutate)), c.want)
	}

	old := testStorageClass()
	r.Default(old)
	checkErrors(t, "expansion", updateErrors(r, mutated(old, func(s *storagev1.StorageClass) { s.AllowVolumeExpansion = ptr.To(true) }), old.DeepCopy()), nil)
	checkErrors(t, "immutable", updateErrors(r, mutated(old, func(s *storagev1.StorageClass) {
		s.Provisioner = "tug.dev/other"
		s.Parameters = nil
		s.ReclaimPolicy = ptr.To(corev1.PersistentVolumeReclaimRetain)
		s.VolumeBindingMode = ptr.To(storagev1.VolumeBindingWaitForFirstConsumer)
	}), old.DeepCopy()), []string{
		"parameters: Forbidden: updates to parameters are forbidden.",
		"provisioner: Forbidden: updates to provisioner are forbidden.",
		"reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.",
		"volumeBindingMode: Invalid value: field is immutable",
	})

	if diff := cmp.Diff([]string{"NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE"}, columnNames(r)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	def := mutated(old, func(s *storagev1.StorageClass) {
		s.Annotations = map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}
	})
	checkRow(t, r, def, []any{"local (default)", "tug.dev/local-path", "Delete", "Immediate", false, "AGE"})
}
