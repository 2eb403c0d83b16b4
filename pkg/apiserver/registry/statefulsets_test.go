package registry

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func testStatefulSet() *appsv1.StatefulSet {
	labels := map[string]string{"app": "db"}
	tmpl := podTemplate(labels, "")
	// Mounting a claim template is valid although no such pod volume exists.
	tmpl.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/var/lib/db"}}
	return &appsv1.StatefulSet{
		ObjectMeta: objectMeta("db"),
		Spec: appsv1.StatefulSetSpec{
			ServiceName: "db",
			Selector:    &metav1.LabelSelector{MatchLabels: labels},
			Template:    tmpl,
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
				},
			}},
		},
	}
}

func TestStatefulSetDefaults(t *testing.T) {
	r := groupResource(t, "statefulsets")
	s := testStatefulSet()
	r.Default(s)
	got := s.Spec
	got.Selector, got.Template, got.ServiceName = nil, corev1.PodTemplateSpec{}, ""
	want := appsv1.StatefulSetSpec{
		Replicas:            ptr.To[int32](1),
		PodManagementPolicy: appsv1.OrderedReadyPodManagement,
		UpdateStrategy: appsv1.StatefulSetUpdateStrategy{
			Type:          appsv1.RollingUpdateStatefulSetStrategyType,
			RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To[int32](0)},
		},
		RevisionHistoryLimit: ptr.To[int32](10),
		PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
			WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
			WhenScaled:  appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
		},
		VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
			ObjectMeta: metav1.ObjectMeta{Name: "data"},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
				VolumeMode:  ptr.To(corev1.PersistentVolumeFilesystem),
			},
			Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending},
		}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestStatefulSetValidation(t *testing.T) {
	r := groupResource(t, "statefulsets")
	cases := []struct {
		name   string
		mutate func(*appsv1.StatefulSet)
		want   []string
	}{
		{"valid", func(*appsv1.StatefulSet) {}, nil},
		{"bad policy", func(s *appsv1.StatefulSet) { s.Spec.PodManagementPolicy = "Random" },
			[]string{"spec.podManagementPolicy: Invalid value: must be 'OrderedReady' or 'Parallel'"}},
		{"on delete with rolling update", func(s *appsv1.StatefulSet) {
			s.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType, RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{}}
		}, []string{"spec.updateStrategy.rollingUpdate: Invalid value: only allowed for updateStrategy 'RollingUpdate'"}},
		{"negative partition", func(s *appsv1.StatefulSet) {
			s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To[int32](-1)}
		}, []string{"spec.updateStrategy.rollingUpdate.partition: Invalid value: must be greater than or equal to 0"}},
		{"retention policy", func(s *appsv1.StatefulSet) {
			s.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{WhenDeleted: "Keep", WhenScaled: appsv1.DeletePersistentVolumeClaimRetentionPolicyType}
		}, []string{`spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: supported values: "Retain", "Delete"`}},
		{"negative ordinal", func(s *appsv1.StatefulSet) { s.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: -1} },
			[]string{"spec.ordinals.start: Invalid value: must be greater than or equal to 0"}},
		{"empty selector", func(s *appsv1.StatefulSet) { s.Spec.Selector = &metav1.LabelSelector{} },
			[]string{"spec.selector: Invalid value: empty selector is invalid for statefulset"}},
		{"restart never", func(s *appsv1.StatefulSet) { s.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever },
			[]string{`spec.template.spec.restartPolicy: Unsupported value: supported values: "Always"`}},
	}
	for _, c := range cases {
		checkErrors(t, c.name, createErrors(r, mutated(testStatefulSet(), c.mutate)), c.want)
	}
	if msgs := r.ValidateName("db.primary", false); len(msgs) == 0 {
		t.Error("a statefulset name must be a DNS label")
	}
}

func TestStatefulSetUpdate(t *testing.T) {
	r := groupResource(t, "statefulsets")
	forbidden := "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
	cases := []struct {
		name   string
		mutate func(*appsv1.StatefulSet)
		want   []string
	}{
		{"replicas", func(s *appsv1.StatefulSet) { s.Spec.Replicas = ptr.To[int32](3) }, nil},
		{"image", func(s *appsv1.StatefulSet) { s.Spec.Template.Spec.Containers[0].Image = "nginx:1.28" }, nil},
		{"strategy", func(s *appsv1.StatefulSet) {
			s.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
		}, nil},
		{"minReadySeconds and history", func(s *appsv1.StatefulSet) {
			s.Spec.MinReadySeconds = 5
			s.Spec.RevisionHistoryLimit = ptr.To[int32](2)
		}, nil},
		{"service name", func(s *appsv1.StatefulSet) { s.Spec.ServiceName = "other" }, []string{forbidden}},
		{"claim size", func(s *appsv1.StatefulSet) {
			s.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("2Gi")
		}, []string{forbidden}},
		{"pod management", func(s *appsv1.StatefulSet) { s.Spec.PodManagementPolicy = appsv1.ParallelPodManagement }, []string{forbidden}},
	}
	for _, c := range cases {
		old := testStatefulSet()
		r.Default(old)
		checkErrors(t, c.name, updateErrors(r, mutated(old, c.mutate), old), c.want)
	}
}

func TestStatefulSetScaleAndTable(t *testing.T) {
	r := groupResource(t, "statefulsets")
	s := testStatefulSet()
	s.Spec.Replicas = ptr.To[int32](3)
	s.Status = appsv1.StatefulSetStatus{Replicas: 3, ReadyReplicas: 2}
	if spec, status, sel := r.Scale.Get(s); spec != 3 || status != 3 || sel != "app=db" {
		t.Errorf("Scale.Get = %d, %d, %q", spec, status, sel)
	}
	r.Scale.SetReplicas(s, 0)
	if *s.Spec.Replicas != 0 {
		t.Errorf("SetReplicas(0) left %d", *s.Spec.Replicas)
	}
	if diff := cmp.Diff([]string{"NAME", "READY", "AGE", "CONTAINERS*", "IMAGES*"}, columnNames(r)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	checkRow(t, r, s, []any{"db", "2/0", "AGE", "web", "nginx:1.27"})

	st := mutated(s, func(s *appsv1.StatefulSet) { s.Status.CurrentReplicas = 4 })
	checkErrors(t, "status", r.ValidateStatusUpdate(st, s), []string{"status.currentReplicas: Invalid value: cannot be greater than status.replicas"})
}
