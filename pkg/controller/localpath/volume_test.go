package localpath

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func testClaim() *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "data", UID: "1234"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("3Gi")}},
		},
	}
}

func TestNewVolume(t *testing.T) {
	sc := Class(true)
	sc.Parameters = map[string]string{ParamPath: "/data/volumes"}
	sc.ReclaimPolicy = ptr.To(corev1.PersistentVolumeReclaimRetain)
	pv, err := newVolume(testClaim(), sc, "node-a")
	if err != nil {
		t.Fatal(err)
	}
	if pv.Name != "pvc-1234" || pv.Spec.HostPath.Path != "/data/volumes/pvc-1234" ||
		*pv.Spec.HostPath.Type != corev1.HostPathDirectoryOrCreate {
		t.Fatalf("volume %s at %+v", pv.Name, pv.Spec.HostPath)
	}
	if VolumeNode(pv) != "node-a" {
		t.Fatalf("node affinity %+v", pv.Spec.NodeAffinity)
	}
	q := pv.Spec.Capacity[corev1.ResourceStorage]
	if q.String() != "3Gi" || pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain ||
		pv.Spec.StorageClassName != ClassName {
		t.Fatalf("capacity %s policy %s class %s", q.String(), pv.Spec.PersistentVolumeReclaimPolicy, pv.Spec.StorageClassName)
	}
	wantRef := &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: "ns", Name: "data", UID: "1234"}
	if diff := cmp.Diff(wantRef, pv.Spec.ClaimRef); diff != "" {
		t.Fatalf("claimRef (-want +got):\n%s", diff)
	}
	if pv.Annotations["pv.kubernetes.io/provisioned-by"] != Provisioner {
		t.Fatalf("annotations %v", pv.Annotations)
	}

	def, err := newVolume(testClaim(), Class(true), "n")
	if err != nil || def.Spec.HostPath.Path != DefaultBasePath+"/pvc-1234" ||
		def.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete {
		t.Fatalf("default class volume %+v, %v", def.Spec.HostPath, err)
	}
}

func TestNewVolumeRefuses(t *testing.T) {
	blockClaim := testClaim()
	blockClaim.Spec.VolumeMode = ptr.To(corev1.PersistentVolumeBlock)
	for name, tc := range map[string]struct {
		claim *corev1.PersistentVolumeClaim
		path  string
	}{
		"block mode":    {blockClaim, ""},
		"relative path": {testClaim(), "data/volumes"},
		"unclean path":  {testClaim(), "/data/../etc"},
		"root":          {testClaim(), "/"},
	} {
		sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Provisioner: Provisioner,
			Parameters: map[string]string{ParamPath: tc.path}}
		if _, err := newVolume(tc.claim, sc, "n"); !errors.Is(err, ErrBadClaim) {
			t.Errorf("%s: err %v, want ErrBadClaim", name, err)
		}
	}
}

func TestVolumeNodeNeedsSingleHostname(t *testing.T) {
	pv, err := newVolume(testClaim(), Class(false), "n1")
	if err != nil {
		t.Fatal(err)
	}
	pv.Spec.NodeAffinity.Required.NodeSelectorTerms[0].MatchExpressions[0].Values = []string{"n1", "n2"}
	if got := VolumeNode(pv); got != "" {
		t.Fatalf("node %q for a volume allowed on two nodes", got)
	}
	pv.Spec.NodeAffinity = nil
	if got := VolumeNode(pv); got != "" {
		t.Fatalf("node %q without affinity", got)
	}
}
