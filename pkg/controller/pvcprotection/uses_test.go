package pvcprotection

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func claimVolume(volume, claim string) corev1.Volume {
	return corev1.Volume{Name: volume, VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}}
}

func ephemeralVolume(volume string) corev1.Volume {
	return corev1.Volume{Name: volume, VolumeSource: corev1.VolumeSource{
		Ephemeral: &corev1.EphemeralVolumeSource{VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{}}}}
}

// testPod is a running pod of namespace "ns" on node "n1".
func testPod(name string, volumes ...corev1.Volume) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name)},
		Spec:       corev1.PodSpec{NodeName: "n1", Volumes: volumes},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning},
	}
}

func TestUsesClaim(t *testing.T) {
	with := func(p *corev1.Pod, mutate func(*corev1.Pod)) *corev1.Pod {
		mutate(p)
		return p
	}
	tests := []struct {
		name string
		pod  *corev1.Pod
		want bool
	}{
		{"names it", testPod("app", claimVolume("v", "other"), claimVolume("data", "data")), true},
		{"names another", testPod("app", claimVolume("data", "other")), false},
		{"no volumes", testPod("app"), false},
		{"ephemeral volume named like it", testPod("app", ephemeralVolume("data")), false},
		{"other namespace", with(testPod("app", claimVolume("v", "data")), func(p *corev1.Pod) { p.Namespace = "other" }), false},
		{"unscheduled", with(testPod("app", claimVolume("v", "data")), func(p *corev1.Pod) {
			p.Spec.NodeName, p.Status.Phase = "", corev1.PodPending
		}), true},
		{"succeeded", with(testPod("app", claimVolume("v", "data")), func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }), false},
		{"failed", with(testPod("app", claimVolume("v", "data")), func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }), false},
		{"terminating", with(testPod("app", claimVolume("v", "data")), func(p *corev1.Pod) {
			p.DeletionTimestamp = &metav1.Time{}
		}), true},
	}
	for _, tt := range tests {
		if got := usesClaim(tt.pod, "ns", "data"); got != tt.want {
			t.Errorf("%s: usesClaim = %v, want %v", tt.name, got, tt.want)
		}
	}
	// A generic ephemeral volume's claim is "<pod name>-<volume name>".
	if !usesClaim(testPod("web", ephemeralVolume("cache")), "ns", "web-cache") {
		t.Error("pod does not use its ephemeral volume's claim web-cache")
	}
}

func TestIndexByClaim(t *testing.T) {
	pod := testPod("web", claimVolume("a", "data"), ephemeralVolume("cache"),
		corev1.Volume{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	got, err := indexByClaim(pod)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ns/data", "ns/web-cache"}; !slices.Equal(got, want) {
		t.Errorf("index keys %v, want %v", got, want)
	}
	if got, _ := indexByClaim(&corev1.Service{}); len(got) != 0 {
		t.Errorf("non-pod indexed under %v", got)
	}
}
