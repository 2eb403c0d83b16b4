package localpath

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	ctrllocalpath "github.com/tugcluster/tug/pkg/controller/localpath"
)

func releasedVolume(name, node, path string, policy corev1.PersistentVolumeReclaimPolicy) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name),
			Annotations: map[string]string{"pv.kubernetes.io/provisioned-by": ctrllocalpath.Provisioner}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path}},
			PersistentVolumeReclaimPolicy: policy,
			ClaimRef:                      &corev1.ObjectReference{Namespace: "ns", Name: "gone", UID: "old"},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: corev1.LabelHostname, Operator: corev1.NodeSelectorOpIn, Values: []string{node}}},
			}}}},
		},
		Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeReleased},
	}
}

func mkVolumeDir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCleanerRemovesOnlyItsReleasedVolumes(t *testing.T) {
	base, elsewhere := t.TempDir(), t.TempDir()
	mine := filepath.Join(base, "pvc-mine")
	other := filepath.Join(base, "pvc-other")
	retained := filepath.Join(base, "pvc-retain")
	outside := filepath.Join(elsewhere, "pvc-outside")
	for _, d := range []string{mine, other, retained, outside} {
		mkVolumeDir(t, d)
	}
	client := fake.NewClientset(
		releasedVolume("pvc-mine", "node-a", mine, corev1.PersistentVolumeReclaimDelete),
		releasedVolume("pvc-other", "node-b", other, corev1.PersistentVolumeReclaimDelete),
		releasedVolume("pvc-retain", "node-a", retained, corev1.PersistentVolumeReclaimRetain),
		releasedVolume("pvc-outside", "node-a", outside, corev1.PersistentVolumeReclaimDelete),
	)
	c, err := New(client, "node-a", Options{BaseDirs: []string{base}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	deadline := time.Now().Add(10 * time.Second)
	for {
		_, getErr := client.CoreV1().PersistentVolumes().Get(ctx, "pvc-mine", metav1.GetOptions{})
		out, err := client.CoreV1().PersistentVolumes().Get(ctx, "pvc-outside", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if apierrors.IsNotFound(getErr) && out.Status.Phase == corev1.VolumeFailed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pvc-mine get: %v; pvc-outside phase %s", getErr, out.Status.Phase)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := os.Stat(mine); !os.IsNotExist(err) {
		t.Fatalf("released volume directory still there: %v", err)
	}
	for _, d := range []string{other, retained, outside} {
		if _, err := os.Stat(filepath.Join(d, "data")); err != nil {
			t.Errorf("%s was touched: %v", d, err)
		}
	}
	for _, name := range []string{"pvc-other", "pvc-retain"} {
		if _, err := client.CoreV1().PersistentVolumes().Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
