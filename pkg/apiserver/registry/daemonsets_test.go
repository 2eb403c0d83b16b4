package registry

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func testDaemonSet() *appsv1.DaemonSet {
	labels := map[string]string{"app": "agent"}
	return &appsv1.DaemonSet{
		ObjectMeta: objectMeta("agent"),
		Spec:       appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: podTemplate(labels, "")},
	}
}

func TestDaemonSetDefaults(t *testing.T) {
	r := groupResource(t, "daemonsets")
	ds := testDaemonSet()
	r.Default(ds)
	want := appsv1.DaemonSetUpdateStrategy{
		Type: appsv1.RollingUpdateDaemonSetStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDaemonSet{
			MaxUnavailable: ptr.To(intstr.FromInt32(1)),
			MaxSurge:       ptr.To(intstr.FromInt32(0)),
		},
	}
	if diff := cmp.Diff(want, ds.Spec.UpdateStrategy); diff != "" {
		t.Errorf("updateStrategy (-want +got):\n%s", diff)
	}
	if got := ptr.Deref(ds.Spec.RevisionHistoryLimit, -1); got != 10 {
		t.Errorf("revisionHistoryLimit = %d, want 10", got)
	}
}

func TestDaemonSetValidation(t *testing.T) {
	r := groupResource(t, "daemonsets")
	ru := func(unavailable, surge intstr.IntOrString) func(*appsv1.DaemonSet) {
		return func(ds *appsv1.DaemonSet) {
			ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &unavailable, MaxSurge: &surge}
		}
	}
	cases := []struct {
		name   string
		mutate func(*appsv1.DaemonSet)
		want   []string
	}{
		{"valid", func(*appsv1.DaemonSet) {}, nil},
		{"surge only", ru(intstr.FromInt32(0), intstr.FromString("10%")), nil},
		{"both set", ru(intstr.FromInt32(1), intstr.FromInt32(1)),
			[]string{"spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: may not be set when maxUnavailable is non-zero"}},
		{"both zero", ru(intstr.FromInt32(0), intstr.FromInt32(0)),
			[]string{"spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0"}},
		{"on delete", func(ds *appsv1.DaemonSet) {
			ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
		}, nil},
		{"unknown strategy", func(ds *appsv1.DaemonSet) { ds.Spec.UpdateStrategy.Type = "Sometimes" },
			[]string{`spec.updateStrategy: Unsupported value: supported values: "RollingUpdate", "OnDelete"`}},
		{"empty selector", func(ds *appsv1.DaemonSet) { ds.Spec.Selector = &metav1.LabelSelector{} },
			[]string{"spec.selector: Invalid value: empty selector is invalid for daemonset"}},
		{"active deadline", func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.ActiveDeadlineSeconds = ptr.To[int64](1) },
			[]string{"spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in DaemonSet is not Supported"}},
	}
	for _, c := range cases {
		checkErrors(t, c.name, createErrors(r, mutated(testDaemonSet(), c.mutate)), c.want)
	}

	old := testDaemonSet()
	moved := mutated(old, func(ds *appsv1.DaemonSet) {
		ds.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{}}
		ds.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpExists}}
	})
	checkErrors(t, "selector change", updateErrors(r, moved, old.DeepCopy()), []string{"spec.selector: Invalid value: field is immutable"})
}

func TestDaemonSetTable(t *testing.T) {
	r := groupResource(t, "daemonsets")
	if diff := cmp.Diff([]string{"NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE",
		"CONTAINERS*", "IMAGES*", "SELECTOR*"}, columnNames(r)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	ds := testDaemonSet()
	ds.Status = appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, CurrentNumberScheduled: 3, NumberReady: 2, UpdatedNumberScheduled: 3, NumberAvailable: 2}
	checkRow(t, r, ds, []any{"agent", int64(3), int64(3), int64(2), int64(3), int64(2), "<none>", "AGE", "web", "nginx:1.27", "app=agent"})
	ds.Spec.Template.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "linux"}
	if got := r.Table.Row(ds)[6]; got != "kubernetes.io/os=linux" {
		t.Errorf("node selector cell = %v", got)
	}
}
