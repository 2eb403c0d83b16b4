package registry

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func testPDB() *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: objectMeta("web"),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MinAvailable: ptr.To(intstr.FromInt32(2)),
			Selector:     &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		},
	}
}

func TestPodDisruptionBudget(t *testing.T) {
	r := groupResource(t, "poddisruptionbudgets")
	created := testPDB()
	created.Status.DisruptionsAllowed = 3
	checkErrors(t, "valid", createErrors(r, created), nil)
	if created.Status.DisruptionsAllowed != 0 {
		t.Error("create kept the client's status")
	}
	cases := []struct {
		name   string
		mutate func(*policyv1.PodDisruptionBudget)
		want   []string
	}{
		{"both", func(p *policyv1.PodDisruptionBudget) { p.Spec.MaxUnavailable = ptr.To(intstr.FromString("10%")) },
			[]string{"spec: Invalid value: minAvailable and maxUnavailable cannot be both set"}},
		{"over 100%", func(p *policyv1.PodDisruptionBudget) { p.Spec.MinAvailable = ptr.To(intstr.FromString("150%")) },
			[]string{"spec.minAvailable: Invalid value: must not be greater than 100%"}},
		{"negative", func(p *policyv1.PodDisruptionBudget) { p.Spec.MinAvailable = ptr.To(intstr.FromInt32(-1)) },
			[]string{"spec.minAvailable: Invalid value: must be greater than or equal to 0"}},
		{"eviction policy", func(p *policyv1.PodDisruptionBudget) {
			p.Spec.UnhealthyPodEvictionPolicy = ptr.To(policyv1.UnhealthyPodEvictionPolicyType("Never"))
		}, []string{`spec.unhealthyPodEvictionPolicy: Unsupported value: supported values: "IfHealthyBudget", "AlwaysAllow"`}},
	}
	for _, c := range cases {
		checkErrors(t, c.name, createErrors(r, mutated(testPDB(), c.mutate)), c.want)
	}
	old := testPDB()
	checkErrors(t, "selector change", updateErrors(r, mutated(old, func(p *policyv1.PodDisruptionBudget) {
		p.Spec.Selector.MatchLabels["tier"] = "front"
	}), old.DeepCopy()), nil)
	checkErrors(t, "status", r.ValidateStatusUpdate(mutated(old, func(p *policyv1.PodDisruptionBudget) { p.Status.ExpectedPods = -1 }), old),
		[]string{"status.expectedPods: Invalid value: must be greater than or equal to 0"})

	if diff := cmp.Diff([]string{"NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE"}, columnNames(r)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	old.Status.DisruptionsAllowed = 1
	checkRow(t, r, old, []any{"web", "2", "N/A", int64(1), "AGE"})
}
