package registry

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/utils/ptr"
)

func testReplicaSet() *appsv1.ReplicaSet {
	labels := map[string]string{"app": "web"}
	return &appsv1.ReplicaSet{
		ObjectMeta: objectMeta("web-5d4f"),
		Spec:       appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: podTemplate(labels, "")},
	}
}

func TestReplicaSetDefaultsAndValidation(t *testing.T) {
	r := groupResource(t, "replicasets")
	rs := testReplicaSet()
	r.Default(rs)
	if got := ptr.Deref(rs.Spec.Replicas, -1); got != 1 {
		t.Errorf("default replicas = %d, want 1", got)
	}
	cases := []struct {
		name   string
		mutate func(*appsv1.ReplicaSet)
		want   []string
	}{
		{"valid", func(*appsv1.ReplicaSet) {}, nil},
		{"empty selector", func(rs *appsv1.ReplicaSet) { rs.Spec.Selector = &metav1.LabelSelector{} },
			[]string{"spec.selector: Invalid value: empty selector is invalid for deployment"}},
		{"mismatch", func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Labels = map[string]string{"app": "db"} },
			[]string{"spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`"}},
		{"negative", func(rs *appsv1.ReplicaSet) { rs.Spec.Replicas = ptr.To[int32](-2); rs.Spec.MinReadySeconds = -1 },
			[]string{"spec.replicas: Invalid value: must be greater than or equal to 0", "spec.minReadySeconds: Invalid value: must be greater than or equal to 0"}},
		{"on failure", func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure },
			[]string{`spec.template.spec.restartPolicy: Unsupported value: supported values: "Always"`}},
	}
	for _, c := range cases {
		checkErrors(t, c.name, createErrors(r, mutated(testReplicaSet(), c.mutate)), c.want)
	}
}

func TestReplicaSetUpdateStatusScaleFields(t *testing.T) {
	r := groupResource(t, "replicasets")
	old := testReplicaSet()
	changed := mutated(old, func(rs *appsv1.ReplicaSet) {
		rs.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "v": "2"}}
		rs.Spec.Template.Labels = map[string]string{"app": "web", "v": "2"}
	})
	checkErrors(t, "selector change", updateErrors(r, changed, old.DeepCopy()), []string{"spec.selector: Invalid value: field is immutable"})

	st := mutated(old, func(rs *appsv1.ReplicaSet) {
		rs.Status = appsv1.ReplicaSetStatus{Replicas: 1, ReadyReplicas: 1, AvailableReplicas: 2}
	})
	checkErrors(t, "status", r.ValidateStatusUpdate(st, old), []string{
		"status.availableReplicas: Invalid value: cannot be greater than status.replicas",
		"status.availableReplicas: Invalid value: cannot be greater than readyReplicas",
	})

	rs := testReplicaSet()
	rs.Spec.Replicas, rs.Status.Replicas = ptr.To[int32](4), 3
	if spec, status, sel := r.Scale.Get(rs); spec != 4 || status != 3 || sel != "app=web" {
		t.Errorf("Scale.Get = %d, %d, %q", spec, status, sel)
	}
	if diff := cmp.Diff(fields.Set{"status.replicas": "3"}, r.Fields(rs)); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}

func TestReplicaSetTable(t *testing.T) {
	r := groupResource(t, "replicasets")
	if diff := cmp.Diff([]string{"NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS*", "IMAGES*", "SELECTOR*"}, columnNames(r)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	rs := testReplicaSet()
	rs.Spec.Replicas = ptr.To[int32](3)
	rs.Status = appsv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 1}
	checkRow(t, r, rs, []any{"web-5d4f", int64(3), int64(3), int64(1), "AGE", "web", "nginx:1.27", "app=web"})
}
