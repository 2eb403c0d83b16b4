package statefulset

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func set(replicas int32, mutate ...func(*appsv1.StatefulSet)) *appsv1.StatefulSet {
	s := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"},
		Spec: appsv1.StatefulSetSpec{
			Replicas: &replicas, ServiceName: "web", PodManagementPolicy: appsv1.OrderedReadyPodManagement,
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType},
		},
	}
	for _, m := range mutate {
		m(s)
	}
	return s
}

// member is a pod of s with the given ordinal and revision; ready makes
// it Running and Ready.
func member(s *appsv1.StatefulSet, ord int, rev string, ready bool) *corev1.Pod {
	p := newPod(s, &corev1.PodTemplateSpec{}, rev, ord)
	p.Status.Phase = corev1.PodPending
	if ready {
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	}
	return p
}

func describe(steps []step) []string {
	var out []string
	for _, s := range steps {
		d := fmt.Sprintf("%s %d", s.kind, s.ordinal)
		if s.current {
			d += " current"
		}
		out = append(out, d)
	}
	return out
}

func expect(t *testing.T, got []step, want ...string) {
	t.Helper()
	if diff := cmp.Diff(want, describe(got)); diff != "" {
		t.Fatalf("steps (-want +got):\n%s", diff)
	}
}

func TestOrdinal(t *testing.T) {
	s := set(3)
	for name, want := range map[string]int{"web-0": 0, "web-12": 12, "web-01": -1, "web-x": -1, "db-1": -1, "web-1-2": -1, "web": -1} {
		if got := Ordinal(s, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}}); got != want {
			t.Errorf("Ordinal(%s) = %d, want %d", name, got, want)
		}
	}
	if ClaimName("data", s, 2) != "data-web-2" {
		t.Fatal(ClaimName("data", s, 2))
	}
}

func TestOrderedReadyCreatesInOrder(t *testing.T) {
	s, now := set(3), time.Now()
	expect(t, plan(s, nil, "r1", now), "create 0")
	expect(t, plan(s, []*corev1.Pod{member(s, 0, "r1", false)}, "r1", now))
	expect(t, plan(s, []*corev1.Pod{member(s, 0, "r1", true)}, "r1", now), "create 1")
	expect(t, plan(s, []*corev1.Pod{member(s, 0, "r1", true), member(s, 1, "r1", true)}, "r1", now), "create 2")
	// Parallel creates every missing pod at once.
	p := set(3, func(s *appsv1.StatefulSet) { s.Spec.PodManagementPolicy = appsv1.ParallelPodManagement })
	expect(t, plan(p, nil, "r1", now), "create 0", "create 1", "create 2")
}

func TestStartOrdinal(t *testing.T) {
	s := set(2, func(s *appsv1.StatefulSet) { s.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: 5} })
	expect(t, plan(s, []*corev1.Pod{member(s, 5, "r1", true), member(s, 2, "r1", true)}, "r1", time.Now()), "create 6")
	pod := newPod(s, &corev1.PodTemplateSpec{}, "r1", 6)
	if pod.Name != "web-6" || pod.Labels[PodIndexLabel] != "6" || pod.Labels[PodNameLabel] != "web-6" ||
		pod.Spec.Hostname != "web-6" || pod.Spec.Subdomain != "web" {
		t.Fatalf("identity %+v %+v", pod.ObjectMeta, pod.Spec)
	}
}

func TestScaleDownReverseOneAtATime(t *testing.T) {
	s, now := set(1), time.Now()
	pods := []*corev1.Pod{member(s, 0, "r1", true), member(s, 1, "r1", true), member(s, 2, "r1", true)}
	expect(t, plan(s, pods, "r1", now), "scale-down 2")
	pods[2].DeletionTimestamp = &metav1.Time{Time: now}
	expect(t, plan(s, pods, "r1", now))
	expect(t, plan(s, pods[:2], "r1", now), "scale-down 1")
	// An unhealthy remaining pod blocks scale-down.
	pods[0].Status.Conditions = nil
	expect(t, plan(s, pods[:2], "r1", now))
}

func TestFailedPodRecreated(t *testing.T) {
	s, now := set(2), time.Now()
	failed := member(s, 0, "r1", false)
	failed.Status.Phase = corev1.PodFailed
	expect(t, plan(s, []*corev1.Pod{failed, member(s, 1, "r1", true)}, "r1", now), "recreate 0")
}

func TestRollingUpdateOrderAndPartition(t *testing.T) {
	s, now := set(4), time.Now()
	pods := func(revs ...string) []*corev1.Pod {
		var out []*corev1.Pod
		for i, r := range revs {
			out = append(out, member(s, i, r, true))
		}
		return out
	}
	expect(t, plan(s, pods("r1", "r1", "r1", "r1"), "r2", now), "update 3")
	expect(t, plan(s, pods("r1", "r1", "r1", "r2"), "r2", now), "update 2")
	// Waits for the updated pod above to be healthy.
	ps := pods("r1", "r1", "r1", "r2")
	ps[3].Status.Conditions = nil
	expect(t, plan(s, ps, "r2", now))
	// Partition 2 stops after ordinal 2.
	s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: new(int32(2))}
	expect(t, plan(s, pods("r1", "r1", "r2", "r2"), "r2", now))
	// Below the partition, a missing pod comes back at the current revision.
	expect(t, plan(s, pods("r1")[:1], "r2", now), "create 1 current")
	// OnDelete never deletes for an update.
	s.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
	expect(t, plan(s, pods("r1", "r1", "r1", "r1"), "r2", now))
}

func TestClaimOwners(t *testing.T) {
	s := set(1, func(s *appsv1.StatefulSet) {
		s.UID = "set-uid"
		s.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
			WhenDeleted: appsv1.DeletePersistentVolumeClaimRetentionPolicyType,
			WhenScaled:  appsv1.DeletePersistentVolumeClaimRetentionPolicyType,
		}
	})
	pod := member(s, 1, "r1", true)
	pod.UID = "pod-uid"
	refs := claimOwners(s, nil, pod, 1)
	if len(refs) != 2 || refs[0].UID != "set-uid" || refs[1].UID != "pod-uid" {
		t.Fatalf("condemned claim owners %+v", refs)
	}
	if refs := claimOwners(s, refs, member(s, 0, "r1", true), 0); len(refs) != 2 {
		t.Fatalf("other pod's ref dropped: %+v", refs)
	}
	s.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	s.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	if refs := claimOwners(s, refs, pod, 1); refs != nil {
		t.Fatalf("retain keeps owners %+v", refs)
	}
}

func TestPlanMaxUnavailable(t *testing.T) {
	withMax := func(v intstr.IntOrString, partition int32) func(*appsv1.StatefulSet) {
		return func(s *appsv1.StatefulSet) {
			s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{MaxUnavailable: &v, Partition: &partition}
		}
	}
	s := set(5, withMax(intstr.FromInt32(2), 0))
	all := func(rev string, readyFrom int) []*corev1.Pod {
		var pods []*corev1.Pod
		for i := 0; i < 5; i++ {
			pods = append(pods, member(s, i, rev, i >= readyFrom))
		}
		return pods
	}
	now := time.Now()
	// All healthy: the two highest old pods go at once.
	expect(t, plan(s, all("v1", 0), "v2", now), "update 4", "update 3")
	// One unhealthy replica spends one of the two.
	expect(t, plan(s, all("v1", 1)[1:], "v2", now), "create 0")
	pods := all("v1", 0)
	pods[0].Status.Conditions = nil
	expect(t, plan(set(5, withMax(intstr.FromInt32(2), 0), func(x *appsv1.StatefulSet) {
		x.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	}), pods, "v2", now), "update 4")
	// A percentage of replicas, rounded up: 30 % of 5 is 2.
	expect(t, plan(set(5, withMax(intstr.FromString("30%"), 0)), all("v1", 0), "v2", now), "update 4", "update 3")
	// The partition still holds: ordinals below 4 keep their revision.
	expect(t, plan(set(5, withMax(intstr.FromInt32(3), 4)), all("v1", 0), "v2", now), "update 4")
	// Updated pods are skipped on the way down.
	mixed := all("v1", 0)
	mixed[4] = member(s, 4, "v2", true)
	expect(t, plan(s, mixed, "v2", now), "update 3", "update 2")
}
