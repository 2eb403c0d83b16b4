package registry

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func testDeployment() *appsv1.Deployment {
	labels := map[string]string{"app": "web"}
	return &appsv1.Deployment{
		ObjectMeta: objectMeta("web"),
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: podTemplate(labels, ""),
		},
	}
}

func TestDeploymentDefaults(t *testing.T) {
	r := groupResource(t, "deployments")
	d := testDeployment()
	r.Default(d)
	want := appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](1),
		Strategy: appsv1.DeploymentStrategy{
			Type: appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxUnavailable: ptr.To(intstr.FromString("25%")),
				MaxSurge:       ptr.To(intstr.FromString("25%")),
			},
		},
		RevisionHistoryLimit:    ptr.To[int32](10),
		ProgressDeadlineSeconds: ptr.To[int32](600),
	}
	got := d.Spec
	got.Selector, got.Template = nil, corev1.PodTemplateSpec{}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	if d.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		t.Errorf("template not defaulted: restartPolicy %q", d.Spec.Template.Spec.RestartPolicy)
	}

	recreate := testDeployment()
	recreate.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType
	r.Default(recreate)
	if recreate.Spec.Strategy.RollingUpdate != nil {
		t.Error("Recreate strategy got rollingUpdate defaults")
	}
}

func TestDeploymentValidation(t *testing.T) {
	r := groupResource(t, "deployments")
	cases := []struct {
		name   string
		mutate func(*appsv1.Deployment)
		want   []string
	}{
		{"valid", func(*appsv1.Deployment) {}, nil},
		// As in Kubernetes, a missing selector selects nothing, so the template does not match either.
		{"no selector", func(d *appsv1.Deployment) { d.Spec.Selector = nil }, []string{"spec.selector: Required value: ",
			"spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`"}},
		{"empty selector", func(d *appsv1.Deployment) { d.Spec.Selector = &metav1.LabelSelector{} },
			[]string{"spec.selector: Invalid value: empty selector is invalid for deployment"}},
		{"selector does not match", func(d *appsv1.Deployment) { d.Spec.Selector.MatchLabels = map[string]string{"app": "db"} },
			[]string{"spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`"}},
		{"negative replicas", func(d *appsv1.Deployment) { d.Spec.Replicas = ptr.To[int32](-1) },
			[]string{"spec.replicas: Invalid value: must be greater than or equal to 0"}},
		{"restart never", func(d *appsv1.Deployment) { d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever },
			[]string{`spec.template.spec.restartPolicy: Unsupported value: supported values: "Always"`}},
		{"active deadline", func(d *appsv1.Deployment) { d.Spec.Template.Spec.ActiveDeadlineSeconds = ptr.To[int64](5) },
			[]string{"spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported"}},
		{"recreate with rolling update", func(d *appsv1.Deployment) {
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{}}
		}, []string{"spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"}},
		{"unknown strategy", func(d *appsv1.Deployment) { d.Spec.Strategy.Type = "BlueGreen" },
			[]string{`spec.strategy.type: Unsupported value: supported values: "Recreate", "RollingUpdate"`}},
		{"both zero", func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: ptr.To(intstr.FromInt32(0)), MaxSurge: ptr.To(intstr.FromString("0%"))}
		}, []string{"spec.strategy.rollingUpdate.maxUnavailable: Invalid value: may not be 0 when `maxSurge` is 0"}},
		{"maxUnavailable over 100%", func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: ptr.To(intstr.FromString("120%"))}
		}, []string{"spec.strategy.rollingUpdate.maxUnavailable: Invalid value: must not be greater than 100%"}},
		{"bad percent", func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: ptr.To(intstr.FromString("lots"))}
		}, []string{"spec.strategy.rollingUpdate.maxSurge: Invalid value: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"}},
		{"deadline below minReady", func(d *appsv1.Deployment) {
			d.Spec.MinReadySeconds = 600
		}, []string{"spec.progressDeadlineSeconds: Invalid value: must be greater than minReadySeconds"}},
	}
	for _, c := range cases {
		checkErrors(t, c.name, createErrors(r, mutated(testDeployment(), c.mutate)), c.want)
	}

	errs := createErrors(r, mutated(testDeployment(), func(d *appsv1.Deployment) { d.Spec.Selector.MatchLabels = map[string]string{"app": "db"} }))
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "spec.template.metadata.labels: Invalid value: ") {
		t.Errorf("selector mismatch error = %v", errs)
	}
}

func TestDeploymentUpdate(t *testing.T) {
	r := groupResource(t, "deployments")
	old := testDeployment()
	scaled := mutated(old, func(d *appsv1.Deployment) { d.Spec.Replicas = ptr.To[int32](5) })
	checkErrors(t, "scale", updateErrors(r, scaled, old.DeepCopy()), nil)

	moved := mutated(old, func(d *appsv1.Deployment) {
		d.Spec.Selector.MatchLabels["tier"] = "front"
		d.Spec.Template.Labels["tier"] = "front"
	})
	checkErrors(t, "selector change", updateErrors(r, moved, old.DeepCopy()),
		[]string{"spec.selector: Invalid value: field is immutable"})
}

func TestDeploymentStatusUpdate(t *testing.T) {
	r := groupResource(t, "deployments")
	old := testDeployment()
	d := mutated(old, func(d *appsv1.Deployment) {
		d.Status = appsv1.DeploymentStatus{Replicas: 2, ReadyReplicas: 3, AvailableReplicas: 1}
	})
	checkErrors(t, "status", r.ValidateStatusUpdate(d, old), []string{
		"status.readyReplicas: Invalid value: cannot be greater than status.replicas",
	})
}

func TestDeploymentScale(t *testing.T) {
	r := groupResource(t, "deployments")
	d := testDeployment()
	d.Spec.Replicas = ptr.To[int32](3)
	d.Status.Replicas = 2
	spec, status, sel := r.Scale.Get(d)
	if spec != 3 || status != 2 || sel != "app=web" {
		t.Errorf("Scale.Get = %d, %d, %q; want 3, 2, app=web", spec, status, sel)
	}
	r.Scale.SetReplicas(d, 7)
	if *d.Spec.Replicas != 7 {
		t.Errorf("SetReplicas left replicas at %d", *d.Spec.Replicas)
	}
}

func TestDeploymentTable(t *testing.T) {
	r := groupResource(t, "deployments")
	if diff := cmp.Diff([]string{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS*", "IMAGES*", "SELECTOR*"}, columnNames(r)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	d := testDeployment()
	r.Default(d)
	d.Spec.Replicas = ptr.To[int32](3)
	d.Status = appsv1.DeploymentStatus{ReadyReplicas: 2, UpdatedReplicas: 3, AvailableReplicas: 2}
	checkRow(t, r, d, []any{"web", "2/3", int64(3), int64(2), "AGE", "web", "nginx:1.27", "app=web"})
}
