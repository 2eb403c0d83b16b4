package volumebinding

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

type volOpt func(*corev1.PersistentVolume)

func volume(name, size, class string, opts ...volOpt) *corev1.PersistentVolume {
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:         corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)},
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: class,
		},
		Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeAvailable},
	}
	for _, o := range opts {
		o(pv)
	}
	return pv
}

func withModes(m ...corev1.PersistentVolumeAccessMode) volOpt {
	return func(pv *corev1.PersistentVolume) { pv.Spec.AccessModes = m }
}

func withLabels(l map[string]string) volOpt {
	return func(pv *corev1.PersistentVolume) { pv.Labels = l }
}

func withClaimRef(ns, name string, uid types.UID) volOpt {
	return func(pv *corev1.PersistentVolume) {
		pv.Spec.ClaimRef = &corev1.ObjectReference{Namespace: ns, Name: name, UID: uid}
	}
}

func onNode(node string) volOpt {
	return func(pv *corev1.PersistentVolume) {
		pv.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: corev1.LabelHostname, Operator: corev1.NodeSelectorOpIn, Values: []string{node}}},
		}}}}
	}
}

func block(pv *corev1.PersistentVolume) {
	m := corev1.PersistentVolumeBlock
	pv.Spec.VolumeMode = &m
}

func claim(size string, modes ...corev1.PersistentVolumeAccessMode) *corev1.PersistentVolumeClaim {
	if len(modes) == 0 {
		modes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	}
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "data", UID: "uid-1"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: modes,
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}},
		},
	}
}

func hostNode(name string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelHostname: name}}}
}

func TestFindBestMatch(t *testing.T) {
	selClaim := claim("1Gi")
	selClaim.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "fast"}}
	rwx := claim("1Gi", corev1.ReadWriteMany)
	tests := []struct {
		name    string
		claim   *corev1.PersistentVolumeClaim
		class   string
		volumes []*corev1.PersistentVolume
		node    *corev1.Node
		wait    bool
		want    string
	}{
		{name: "smallest that fits", claim: claim("1Gi"), class: "std",
			volumes: []*corev1.PersistentVolume{volume("big", "10Gi", "std"), volume("small", "512Mi", "std"), volume("fit", "2Gi", "std")},
			want:    "fit"},
		{name: "equal size counts", claim: claim("1Gi"), class: "std",
			volumes: []*corev1.PersistentVolume{volume("exact", "1Gi", "std")}, want: "exact"},
		{name: "other class skipped", claim: claim("1Gi"), class: "std",
			volumes: []*corev1.PersistentVolume{volume("gold", "1Gi", "gold"), volume("none", "1Gi", "")}},
		{name: "no class binds classless volumes", claim: claim("1Gi"), class: "",
			volumes: []*corev1.PersistentVolume{volume("gold", "1Gi", "gold"), volume("none", "1Gi", "")}, want: "none"},
		{name: "access modes must be offered", claim: rwx, class: "std",
			volumes: []*corev1.PersistentVolume{volume("rwo", "1Gi", "std"),
				volume("rwx", "5Gi", "std", withModes(corev1.ReadWriteOnce, corev1.ReadWriteMany))}, want: "rwx"},
		{name: "volume mode must match", claim: claim("1Gi"), class: "std",
			volumes: []*corev1.PersistentVolume{volume("blk", "1Gi", "std", block)}},
		{name: "selector", claim: selClaim, class: "std",
			volumes: []*corev1.PersistentVolume{volume("slow", "1Gi", "std", withLabels(map[string]string{"tier": "slow"})),
				volume("fast", "3Gi", "std", withLabels(map[string]string{"tier": "fast"}))}, want: "fast"},
		{name: "claimed or unavailable skipped", claim: claim("1Gi"), class: "std",
			volumes: []*corev1.PersistentVolume{volume("other", "1Gi", "std", withClaimRef("ns", "other", "")),
				volume("released", "1Gi", "std", func(pv *corev1.PersistentVolume) { pv.Status.Phase = corev1.VolumeReleased })}},
		{name: "pre-bound wins over a smaller fit", claim: claim("1Gi"), class: "std",
			volumes: []*corev1.PersistentVolume{volume("fit", "1Gi", "std"), volume("mine", "8Gi", "other", withClaimRef("ns", "data", ""))},
			want:    "mine"},
		{name: "pre-bound to another uid is not ours", claim: claim("1Gi"), class: "std",
			volumes: []*corev1.PersistentVolume{volume("old", "1Gi", "std", withClaimRef("ns", "data", "uid-0"))}},
		{name: "pre-bound but too small", claim: claim("1Gi"), class: "std",
			volumes: []*corev1.PersistentVolume{volume("mine", "100Mi", "std", withClaimRef("ns", "data", "uid-1"))}},
		{name: "waiting for node: only pre-bound", claim: claim("1Gi"), class: "std", wait: true,
			volumes: []*corev1.PersistentVolume{volume("fit", "1Gi", "std")}},
		{name: "waiting for node: provisioned for the claim", claim: claim("1Gi"), class: "std", wait: true,
			volumes: []*corev1.PersistentVolume{volume("pvc-uid-1", "1Gi", "std", withClaimRef("ns", "data", "uid-1"), onNode("n1"))},
			want:    "pvc-uid-1"},
		{name: "node affinity", claim: claim("1Gi"), class: "std", node: hostNode("n2"),
			volumes: []*corev1.PersistentVolume{volume("on-n1", "1Gi", "std", onNode("n1")), volume("on-n2", "2Gi", "std", onNode("n2")),
				volume("anywhere", "4Gi", "std")}, want: "on-n2"},
		{name: "pre-bound volume wins on any node", claim: claim("1Gi"), class: "std", node: hostNode("n2"),
			volumes: []*corev1.PersistentVolume{volume("free", "1Gi", "std"),
				volume("mine", "1Gi", "std", withClaimRef("ns", "data", ""), onNode("n1"))}, want: "mine"},
		{name: "deleted volume skipped", claim: claim("1Gi"), class: "std",
			volumes: []*corev1.PersistentVolume{volume("gone", "1Gi", "std", func(pv *corev1.PersistentVolume) {
				now := metav1.Now()
				pv.DeletionTimestamp = &now
			})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FindBestMatch(tt.claim, tt.class, tt.volumes, tt.node, tt.wait)
			if err != nil {
				t.Fatal(err)
			}
			name := ""
			if got != nil {
				name = got.Name
			}
			if name != tt.want {
				t.Fatalf("matched %q, want %q", name, tt.want)
			}
		})
	}
}

func TestCheckSatisfies(t *testing.T) {
	tests := []struct {
		name string
		pv   *corev1.PersistentVolume
		ok   bool
	}{
		{"fits", volume("a", "2Gi", "std"), true},
		{"too small", volume("a", "1Mi", "std"), false},
		{"class", volume("a", "2Gi", "gold"), false},
		{"mode", volume("a", "2Gi", "std", block), false},
		{"access", volume("a", "2Gi", "std", withModes(corev1.ReadOnlyMany)), false},
	}
	for _, tt := range tests {
		if err := CheckSatisfies(claim("1Gi"), "std", tt.pv); (err == nil) != tt.ok {
			t.Errorf("%s: err %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestDefaultClass(t *testing.T) {
	at := func(name string, def bool, sec int) *storagev1.StorageClass {
		sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name,
			CreationTimestamp: metav1.NewTime(time.Unix(int64(sec), 0))}}
		if def {
			sc.Annotations = map[string]string{AnnDefaultClass: "true"}
		}
		return sc
	}
	if got := DefaultClass([]*storagev1.StorageClass{at("a", false, 1)}); got != nil {
		t.Fatalf("default %q without any marked", got.Name)
	}
	got := DefaultClass([]*storagev1.StorageClass{at("old", true, 1), at("new", true, 5), at("plain", false, 9)})
	if got == nil || got.Name != "new" {
		t.Fatalf("default %v, want the newest marked class", got)
	}
}
