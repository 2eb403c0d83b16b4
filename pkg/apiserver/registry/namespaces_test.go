package registry

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNamespaceCreate(t *testing.T) {
	r := coreResource(t, "namespaces")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}}
	if errs := createErrors(r, ns); len(errs) != 0 {
		t.Fatalf("valid namespace rejected: %v", errs)
	}
	if ns.Status.Phase != corev1.NamespaceActive {
		t.Errorf("phase %q, want Active", ns.Status.Phase)
	}
	if diff := cmp.Diff([]corev1.FinalizerName{"kubernetes"}, ns.Spec.Finalizers); diff != "" {
		t.Errorf("finalizers (-want +got):\n%s", diff)
	}
	if ns.Labels["kubernetes.io/metadata.name"] != "team-a" {
		t.Errorf("labels %v, want kubernetes.io/metadata.name=team-a", ns.Labels)
	}

	bad := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Spec: corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"not a finalizer"}}}
	if errs := createErrors(r, bad); len(errs) != 1 || errs[0].Field != "spec.finalizers[0]" {
		t.Errorf("bad finalizer: %v", errs)
	}
}

func TestNamespaceUpdateKeepsFinalizers(t *testing.T) {
	r := coreResource(t, "namespaces")
	old := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}, Spec: corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"kubernetes"}}}
	ns := old.DeepCopy()
	ns.Spec.Finalizers = nil
	r.PrepareForUpdate(ns, old)
	if len(ns.Spec.Finalizers) != 1 {
		t.Errorf("an update removed spec.finalizers: %v", ns.Spec.Finalizers)
	}
}

func TestNamespaceStatusUpdate(t *testing.T) {
	r := coreResource(t, "namespaces")
	live := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}
	deleting := mutated(live, func(ns *corev1.Namespace) { ns.DeletionTimestamp = &metav1.Time{Time: time.Now()} })
	tests := []struct {
		name  string
		ns    *corev1.Namespace
		phase corev1.NamespacePhase
		want  []string
	}{
		{"active", live, corev1.NamespaceActive, nil},
		{"terminating without deletion", live, corev1.NamespaceTerminating,
			[]string{"status.phase: Invalid value: may only be 'Active' if `deletionTimestamp` is empty"}},
		{"terminating", deleting, corev1.NamespaceTerminating, nil},
		{"active while deleting", deleting, corev1.NamespaceActive,
			[]string{"status.phase: Invalid value: may only be 'Terminating' if `deletionTimestamp` is not empty"}},
	}
	for _, tt := range tests {
		ns := tt.ns.DeepCopy()
		ns.Status.Phase = tt.phase
		checkErrors(t, tt.name, r.ValidateStatusUpdate(ns, tt.ns), tt.want)
	}
}

func TestNamespaceTableAndFields(t *testing.T) {
	r := coreResource(t, "namespaces")
	if diff := cmp.Diff([]string{"NAME", "STATUS", "AGE"}, columnNames(r)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	ns := &corev1.Namespace{ObjectMeta: objectMeta("team-a"), Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}
	checkRow(t, r, ns, []any{"team-a", "Active", "AGE"})
	if diff := cmp.Diff(map[string]string{"name": "team-a", "status.phase": "Active"}, map[string]string(r.Fields(ns))); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}
