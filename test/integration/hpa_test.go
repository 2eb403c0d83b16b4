package integration

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/tugcluster/tug/pkg/controller"
	"github.com/tugcluster/tug/pkg/controller/podautoscaler"
)

// runAutoscaler runs an autoscaler controller against client with a short
// sync period until the test ends.
func runAutoscaler(t *testing.T, client kubernetes.Interface, period time.Duration) {
	t.Helper()
	factory := informers.NewSharedInformerFactory(client, 0)
	events := record.NewBroadcaster()
	events.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	cc := &controller.Context{
		Client:    client,
		Informers: factory,
		Events: func(component string) record.EventRecorder {
			return events.NewRecorder(scheme.Scheme, corev1.EventSource{Component: component})
		},
		Now:     time.Now,
		Options: controller.Options{HorizontalPodAutoscalerSyncPeriod: period},
		Log:     componentLogger(),
	}
	c, err := podautoscaler.New(cc)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	factory.Start(runCtx.Done())
	go func() { done <- c.Run(runCtx, 1) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("autoscaler: %v", err)
		}
		factory.Shutdown()
		events.Shutdown()
	})
}

func TestHorizontalPodAutoscalerFollowsCPU(t *testing.T) {
	mc := newMetricsCluster(t, "hpa-node", "10.42.96.0/24")
	mc.rt.milliCPU.Store(50) // exactly the target: 50% of 100m
	ns := newNamespace(t)
	labels := map[string]string{"app": "web"}
	pod := podOn("", mc.node, "100m", labels)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: pod.Spec},
		},
	}
	if _, err := cluster.client.AppsV1().Deployments(ns).Create(ctx(t), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MinReplicas:    ptr(int32(1)),
			MaxReplicas:    5,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name:   corev1.ResourceCPU,
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr(int32(50))},
			}}},
			Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr(int32(1))},
			},
		},
	}
	if _, err := cluster.client.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctx(t), hpa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	runAutoscaler(t, mc.client, 300*time.Millisecond)
	hpas := cluster.client.AutoscalingV2().HorizontalPodAutoscalers(ns)

	// At the target: measured, no change.
	eventually(t, 10*time.Second, func() (bool, string) {
		h, err := hpas.Get(ctx(t), "web", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return len(h.Status.CurrentMetrics) == 1 && h.Status.DesiredReplicas == 1 &&
			hasCondition(h, autoscalingv2.ScalingActive, corev1.ConditionTrue), describeHPA(h)
	})

	// Four times the target: scale up.
	mc.rt.milliCPU.Store(200)
	eventually(t, 10*time.Second, func() (bool, string) {
		got, err := cluster.client.AppsV1().Deployments(ns).Get(ctx(t), "web", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return *got.Spec.Replicas >= 4, "replicas " + itoa(*got.Spec.Replicas)
	})
	eventually(t, 5*time.Second, func() (bool, string) {
		return hasEvent(t, ns, "SuccessfulRescale", "New size: 4; reason: cpu resource utilization (percentage of request) above target")
	})

	// Far below the target: back to the minimum once the short window passed.
	mc.rt.milliCPU.Store(5)
	eventually(t, 15*time.Second, func() (bool, string) {
		got, err := cluster.client.AppsV1().Deployments(ns).Get(ctx(t), "web", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return *got.Spec.Replicas == 1, "replicas " + itoa(*got.Spec.Replicas)
	})
	eventually(t, 5*time.Second, func() (bool, string) {
		return hasEvent(t, ns, "SuccessfulRescale", "New size: 1; reason: All metrics below target")
	})
	h, err := hpas.Get(ctx(t), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h.Status.LastScaleTime == nil || h.Status.DesiredReplicas != 1 ||
		!hasCondition(h, autoscalingv2.AbleToScale, corev1.ConditionTrue) {
		t.Errorf("status after scaling down: %s", describeHPA(h))
	}
}

func hasCondition(h *autoscalingv2.HorizontalPodAutoscaler, typ autoscalingv2.HorizontalPodAutoscalerConditionType, status corev1.ConditionStatus) bool {
	for _, c := range h.Status.Conditions {
		if c.Type == typ {
			return c.Status == status
		}
	}
	return false
}

func describeHPA(h *autoscalingv2.HorizontalPodAutoscaler) string {
	var b strings.Builder
	b.WriteString("current " + itoa(h.Status.CurrentReplicas) + " desired " + itoa(h.Status.DesiredReplicas))
	for _, m := range h.Status.CurrentMetrics {
		if m.Resource != nil && m.Resource.Current.AverageUtilization != nil {
			b.WriteString(" utilization " + itoa(*m.Resource.Current.AverageUtilization) + "%")
		}
	}
	for _, c := range h.Status.Conditions {
		b.WriteString("; " + string(c.Type) + "=" + string(c.Status) + " " + c.Reason + ": " + c.Message)
	}
	return b.String()
}

func hasEvent(t *testing.T, ns, reason, message string) (bool, string) {
	list, err := cluster.client.CoreV1().Events(ns).List(ctx(t), metav1.ListOptions{})
	if err != nil {
		return false, err.Error()
	}
	var seen []string
	for _, e := range list.Items {
		if e.Reason == reason && e.Message == message && e.InvolvedObject.Kind == "HorizontalPodAutoscaler" {
			return true, ""
		}
		seen = append(seen, e.Reason+": "+e.Message)
	}
	return false, strings.Join(seen, " | ")
}

func itoa[T ~int32](v T) string { return strconv.Itoa(int(v)) }
