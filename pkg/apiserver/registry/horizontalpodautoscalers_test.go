package registry

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
)

func testHPA() *autoscalingv2.HorizontalPodAutoscaler {
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: objectMeta("web"),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MaxReplicas:    5,
		},
	}
}

func TestHPADefaults(t *testing.T) {
	r := groupResource(t, "horizontalpodautoscalers")
	h := testHPA()
	r.Default(h)
	if got := ptr.Deref(h.Spec.MinReplicas, 0); got != 1 {
		t.Errorf("minReplicas = %d, want 1", got)
	}
	wantMetrics := []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](80)},
	}}}
	if diff := cmp.Diff(wantMetrics, h.Spec.Metrics); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
	if h.Spec.Behavior != nil {
		t.Error("behavior defaulted although unset")
	}

	withBehavior := testHPA()
	withBehavior.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{
		ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To[int32](60)},
	}
	r.Default(withBehavior)
	max := ptr.To(autoscalingv2.MaxChangePolicySelect)
	want := &autoscalingv2.HorizontalPodAutoscalerBehavior{
		ScaleUp: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To[int32](0), SelectPolicy: max, Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15}, {Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}}},
		ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To[int32](60), SelectPolicy: max, Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}}},
	}
	if diff := cmp.Diff(want, withBehavior.Spec.Behavior); diff != "" {
		t.Errorf("behavior (-want +got):\n%s", diff)
	}
}

func TestHPAValidation(t *testing.T) {
	r := groupResource(t, "horizontalpodautoscalers")
	cases := []struct {
		name   string
		mutate func(*autoscalingv2.HorizontalPodAutoscaler)
		want   []string
	}{
		{"valid", func(*autoscalingv2.HorizontalPodAutoscaler) {}, nil},
		{"no target", func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.ScaleTargetRef = autoscalingv2.CrossVersionObjectReference{}
		},
			[]string{"spec.scaleTargetRef.kind: Required value: ", "spec.scaleTargetRef.name: Required value: "}},
		{"zero min", func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MinReplicas = ptr.To[int32](0) },
			[]string{"spec.minReplicas: Invalid value: must be greater than or equal to 1"}},
		{"max below min", func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MinReplicas = ptr.To[int32](6) },
			[]string{"spec.maxReplicas: Invalid value: must be greater than or equal to `minReplicas`"}},
		{"zero max", func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MaxReplicas = 0 },
			[]string{"spec.maxReplicas: Invalid value: must be greater than 0", "spec.maxReplicas: Invalid value: must be greater than or equal to `minReplicas`"}},
		{"missing source", func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Metrics = []autoscalingv2.MetricSpec{{Type: autoscalingv2.PodsMetricSourceType}}
		}, []string{"spec.metrics[0].pods: Required value: must populate information for the given metric source"}},
		{"utilization without value", func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Metrics = []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceMemory, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType}}}}
		}, []string{"spec.metrics[0].resource.target.averageUtilization: Required value: must set averageUtilization when type is Utilization"}},
		{"bad behavior", func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{
				StabilizationWindowSeconds: ptr.To[int32](4000),
				Policies:                   []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 0, PeriodSeconds: 2000}},
			}}
		}, []string{"spec.behavior.scaleUp.stabilizationWindowSeconds: Invalid value: must be less than or equal to 3600",
			"spec.behavior.scaleUp.policies[0].value: Invalid value: must be greater than zero",
			"spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: must be less than or equal to 1800"}},
	}
	for _, c := range cases {
		checkErrors(t, c.name, createErrors(r, mutated(testHPA(), c.mutate)), c.want)
	}
}

func TestHPATable(t *testing.T) {
	r := groupResource(t, "horizontalpodautoscalers")
	if diff := cmp.Diff([]string{"NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"}, columnNames(r)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	h := testHPA()
	r.Default(h)
	h.Status.CurrentReplicas = 2
	checkRow(t, r, h, []any{"web", "Deployment/web", "cpu: <unknown>/80%", "1", int64(5), int64(2), "AGE"})
	h.Status.CurrentMetrics = []autoscalingv2.MetricStatus{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{
		Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: ptr.To[int32](42)}}}}
	q := resource.MustParse("100")
	h.Spec.Metrics = append(h.Spec.Metrics,
		autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: "rps"}, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &q}}},
		autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: "queue"}, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: &q}}})
	if got := r.Table.Row(h)[2]; got != "cpu: 42%/80%, <unknown>/100 + 1 more..." {
		t.Errorf("targets = %q", got)
	}
}
