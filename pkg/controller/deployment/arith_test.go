package deployment

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func TestResolveFenceposts(t *testing.T) {
	for _, tc := range []struct {
		surge, unavail intstr.IntOrString
		replicas       int32
		wantS, wantU   int32
	}{
		{intstr.FromString("25%"), intstr.FromString("25%"), 10, 3, 2}, // 2.5 → surge up, unavailable down
		{intstr.FromString("25%"), intstr.FromString("25%"), 4, 1, 1},
		{intstr.FromString("25%"), intstr.FromString("25%"), 1, 1, 0},
		{intstr.FromInt32(0), intstr.FromInt32(0), 5, 0, 1}, // both zero: one may be unavailable
		{intstr.FromString("0%"), intstr.FromString("10%"), 5, 0, 1},
		{intstr.FromInt32(2), intstr.FromInt32(1), 3, 2, 1},
		{intstr.FromString("50%"), intstr.FromString("50%"), 3, 2, 1},
	} {
		s, u, err := ResolveFenceposts(&tc.surge, &tc.unavail, tc.replicas)
		if err != nil {
			t.Fatal(err)
		}
		if s != tc.wantS || u != tc.wantU {
			t.Errorf("ResolveFenceposts(%v, %v, %d) = %d, %d; want %d, %d", tc.surge.String(), tc.unavail.String(), tc.replicas, s, u, tc.wantS, tc.wantU)
		}
	}
	bad := intstr.FromString("x%")
	if _, _, err := ResolveFenceposts(&bad, nil, 3); err == nil {
		t.Error("bad percentage accepted")
	}
}

func rolling(replicas int32, surge, unavail intstr.IntOrString) *appsv1.Deployment {
	return &appsv1.Deployment{Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To(replicas),
		Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavail}},
	}}
}

func rsOf(name string, replicas, available int32) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:   appsv1.ReplicaSetSpec{Replicas: ptr.To(replicas)},
		Status: appsv1.ReplicaSetStatus{Replicas: replicas, AvailableReplicas: available}}
}

// TestRollingSteps plays a whole rollout with the step arithmetic, every
// pod becoming available at once, and checks the bounds at each step.
func TestRollingSteps(t *testing.T) {
	d := rolling(4, intstr.FromInt32(1), intstr.FromInt32(1))
	oldRS, newRS := rsOf("old", 4, 4), rsOf("new", 0, 0)
	for step := 0; step < 20 && (rsReplicas(newRS) != 4 || rsReplicas(oldRS) != 0); step++ {
		all := []*appsv1.ReplicaSet{oldRS, newRS}
		if n := NewRSNewReplicas(d, all, newRS); n != rsReplicas(newRS) {
			newRS.Spec.Replicas = ptr.To(n)
		} else if b := OldScaleDownBudget(d, all, newRS); b > 0 {
			avail := oldRS.Status.AvailableReplicas + newRS.Status.AvailableReplicas
			down := min(rsReplicas(oldRS), b, avail-(4-maxUnavailable(d)))
			oldRS.Spec.Replicas = ptr.To(rsReplicas(oldRS) - down)
		} else {
			t.Fatalf("step %d: stuck with old=%d new=%d", step, rsReplicas(oldRS), rsReplicas(newRS))
		}
		if total := rsReplicas(oldRS) + rsReplicas(newRS); total > 5 {
			t.Fatalf("step %d: %d pods, more than replicas+maxSurge", step, total)
		}
		// The "kubelet": what exists becomes available.
		for _, rs := range all {
			rs.Status.Replicas, rs.Status.AvailableReplicas = rsReplicas(rs), rsReplicas(rs)
		}
		if avail := oldRS.Status.AvailableReplicas + newRS.Status.AvailableReplicas; avail < 3 {
			t.Fatalf("step %d: %d available, fewer than replicas-maxUnavailable", step, avail)
		}
	}
	if rsReplicas(newRS) != 4 || rsReplicas(oldRS) != 0 {
		t.Fatalf("rollout did not finish: old=%d new=%d", rsReplicas(oldRS), rsReplicas(newRS))
	}
}

func TestNewRSNewReplicas(t *testing.T) {
	d := rolling(10, intstr.FromString("25%"), intstr.FromString("25%"))
	newRS := rsOf("new", 0, 0)
	if got := NewRSNewReplicas(d, []*appsv1.ReplicaSet{rsOf("old", 10, 10), newRS}, newRS); got != 3 {
		t.Errorf("first surge = %d, want 3", got)
	}
	newRS = rsOf("new", 3, 0)
	if got := NewRSNewReplicas(d, []*appsv1.ReplicaSet{rsOf("old", 10, 10), newRS}, newRS); got != 3 {
		t.Errorf("at the surge limit = %d, want 3", got)
	}
	rec := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](7),
		Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}}}
	if got := NewRSNewReplicas(rec, nil, rsOf("new", 0, 0)); got != 7 {
		t.Errorf("recreate = %d, want 7", got)
	}
}

func TestDistributeProportionally(t *testing.T) {
	// 10 replicas mid-rollout (8 old, 5 new, surge 3) scaled to 20.
	d := rolling(20, intstr.FromInt32(3), intstr.FromInt32(0))
	a, b := rsOf("a", 8, 8), rsOf("b", 5, 0)
	for _, rs := range []*appsv1.ReplicaSet{a, b} {
		rs.Annotations = map[string]string{MaxReplicasAnnotation: "13"}
	}
	sizes := distribute(d, []*appsv1.ReplicaSet{a, b}, 23-13)
	if sizes["a"]+sizes["b"] != 23 {
		t.Fatalf("sizes %v do not add up to 23", sizes)
	}
	if sizes["a"] <= sizes["b"] || sizes["b"] <= 5 {
		t.Errorf("sizes %v are not proportional", sizes)
	}
}

func TestComputeHashStable(t *testing.T) {
	tmpl := &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "front"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1"}}},
	}
	h := ComputeHash(tmpl, nil)
	for range 20 {
		reordered := tmpl.DeepCopy()
		reordered.Labels = map[string]string{"tier": "front", "app": "web"}
		if got := ComputeHash(reordered, nil); got != h {
			t.Fatalf("hash changed: %s then %s", h, got)
		}
	}
	// Pinned: a change of encoding would rename every ReplicaSet.
	if h != pinnedHash {
		t.Errorf("hash = %q, want the pinned %q", h, pinnedHash)
	}
	if ComputeHash(tmpl, ptr.To[int32](1)) == h {
		t.Error("collisionCount does not change the hash")
	}
	other := tmpl.DeepCopy()
	other.Spec.Containers[0].Image = "nginx:2"
	if ComputeHash(other, nil) == h {
		t.Error("a different image hashes the same")
	}
	if !EqualIgnoreHash(tmpl, withHashLabel(tmpl, h)) {
		t.Error("EqualIgnoreHash sees the hash label")
	}
}

func withHashLabel(t *corev1.PodTemplateSpec, h string) *corev1.PodTemplateSpec {
	c := t.DeepCopy()
	c.Labels = cloneWithLabel(c.Labels, appsv1.DefaultDeploymentUniqueLabelKey, h)
	return c
}

const pinnedHash = "68c77d4f85"
