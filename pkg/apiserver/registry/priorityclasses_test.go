package registry

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/utils/ptr"
)

func TestPriorityClass(t *testing.T) {
	r := groupResource(t, "priorityclasses")
	pc := func(name string, value int32) *schedulingv1.PriorityClass {
		return &schedulingv1.PriorityClass{ObjectMeta: objectMeta(name), Value: value}
	}
	created := pc("high", 1000)
	checkErrors(t, "valid", createErrors(r, created), nil)
	if got := ptr.Deref(created.PreemptionPolicy, ""); got != corev1.PreemptLowerPriority {
		t.Errorf("default preemptionPolicy = %q", got)
	}
	cases := []struct {
		name string
		obj  *schedulingv1.PriorityClass
		want []string
	}{
		{"too high", pc("huge", 1000000001), []string{"value: Forbidden: maximum allowed value of a user defined priority is 1000000000"}},
		{"system class", pc("system-node-critical", 2000001000), nil},
		{"system value", pc("system-cluster-critical", 5), []string{"metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-cluster-critical PriorityClass must be 2000000000"}},
		{"unknown system", pc("system-mine", 5), []string{"metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class"}},
		{"bad policy", mutated(pc("p", 1), func(p *schedulingv1.PriorityClass) { p.PreemptionPolicy = ptr.To(corev1.PreemptionPolicy("Always")) }),
			[]string{`preemptionPolicy: Unsupported value: supported values: "PreemptLowerPriority", "Never"`}},
	}
	for _, c := range cases {
		checkErrors(t, c.name, createErrors(r, c.obj), c.want)
	}

	old := pc("high", 1000)
	r.Default(old)
	checkErrors(t, "description change", updateErrors(r, mutated(old, func(p *schedulingv1.PriorityClass) { p.Description = "x"; p.GlobalDefault = true }), old.DeepCopy()), nil)
	checkErrors(t, "value change", updateErrors(r, mutated(old, func(p *schedulingv1.PriorityClass) {
		p.Value = 2000
		p.PreemptionPolicy = ptr.To(corev1.PreemptNever)
	}), old.DeepCopy()), []string{"value: Forbidden: may not be changed in an update.", "preemptionPolicy: Invalid value: field is immutable"})

	if diff := cmp.Diff([]string{"NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"}, columnNames(r)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	checkRow(t, r, old, []any{"high", int64(1000), false, "AGE", "PreemptLowerPriority"})
}
