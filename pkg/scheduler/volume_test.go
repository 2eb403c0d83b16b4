package scheduler

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

type fakeVolumes struct {
	claims  map[string]*corev1.PersistentVolumeClaim
	volumes map[string]*corev1.PersistentVolume
	classes map[string]*storagev1.StorageClass
}

func notFound(name string) error {
	return apierrors.NewNotFound(schema.GroupResource{Resource: "x"}, name)
}

func (f fakeVolumes) Claim(ns, name string) (*corev1.PersistentVolumeClaim, error) {
	if c, ok := f.claims[ns+"/"+name]; ok {
		return c, nil
	}
	return nil, notFound(name)
}

func (f fakeVolumes) Volume(name string) (*corev1.PersistentVolume, error) {
	if v, ok := f.volumes[name]; ok {
		return v, nil
	}
	return nil, notFound(name)
}

func (f fakeVolumes) Class(name string) (*storagev1.StorageClass, error) {
	if c, ok := f.classes[name]; ok {
		return c, nil
	}
	return nil, notFound(name)
}

func withClaim(p *corev1.Pod, claim string) *corev1.Pod {
	p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: claim, VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}})
	return p
}

func TestVolumeNodeAffinity(t *testing.T) {
	wffc := storagev1.VolumeBindingWaitForFirstConsumer
	local, immediate := "local", "immediate"
	vols := fakeVolumes{
		claims: map[string]*corev1.PersistentVolumeClaim{
			"default/bound":   {ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "bound"}, Spec: corev1.PersistentVolumeClaimSpec{VolumeName: "pv1"}},
			"default/delayed": {ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "delayed"}, Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: &local}},
			"default/now":     {ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "now"}, Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: &immediate}},
			"default/lost":    {ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "lost"}, Spec: corev1.PersistentVolumeClaimSpec{VolumeName: "gone"}},
		},
		volumes: map[string]*corev1.PersistentVolume{"pv1": {ObjectMeta: metav1.ObjectMeta{Name: "pv1"}, Spec: corev1.PersistentVolumeSpec{
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: []string{"n2"}}}}}}}}}},
		classes: map[string]*storagev1.StorageClass{
			local:     {ObjectMeta: metav1.ObjectMeta{Name: local}, VolumeBindingMode: &wffc},
			immediate: {ObjectMeta: metav1.ObjectMeta{Name: immediate}},
		},
	}
	w := newWorld(t, []*corev1.Node{node("n1", "1", "1Gi", 10, nil), node("n2", "1", "1Gi", 10, nil)}, nil,
		func(a *algorithm) { a.filters = newAlgorithm(a.snap, vols, false, 0).filters })
	if got := mustPlace(t, w, withClaim(pod("a", "", ""), "bound")); got != "n2" {
		t.Fatalf("placed on %s, want n2 (the local PV's node)", got)
	}
	res := w.algo.schedule(newPodInfo(withClaim(pod("b", "", ""), "delayed"), 0))
	if res.node == "" || res.volumes == nil || len(res.volumes.delayed) != 1 {
		t.Fatalf("delayed claim: node %q, plan %+v", res.node, res.volumes)
	}
	mustFail(t, w, withClaim(pod("c", "", ""), "missing"), `0/2 nodes are available: persistentvolumeclaim "missing" not found.`)
	mustFail(t, w, withClaim(pod("d", "", ""), "now"), "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims.")
	mustFail(t, w, withClaim(pod("e", "", ""), "lost"), "0/2 nodes are available: 2 node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s).")
	w2 := newWorld(t, []*corev1.Node{node("n1", "1", "1Gi", 10, nil)}, nil,
		func(a *algorithm) { a.filters = newAlgorithm(a.snap, vols, false, 0).filters })
	mustFail(t, w2, withClaim(pod("f", "", ""), "bound"), "0/1 nodes are available: 1 node(s) didn't match PersistentVolume's node affinity.")
}
