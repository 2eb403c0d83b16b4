package podautoscaler

import (
	"context"
	"encoding/json"
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
)

// usageSource reports the usage of pods, summed over their containers, in
// milli-units, by pod name.
type usageSource interface {
	podUsage(ctx context.Context, namespace string, selector labels.Selector, res corev1.ResourceName) (map[string]int64, error)
}

// metricsAPI reads pod usage from metrics.k8s.io/v1beta1.
type metricsAPI struct {
	client kubernetes.Interface
}

func (m *metricsAPI) podUsage(ctx context.Context, namespace string, selector labels.Selector, res corev1.ResourceName) (map[string]int64, error) {
	raw, err := m.client.CoreV1().RESTClient().Get().
		AbsPath("/apis/metrics.k8s.io/v1beta1/namespaces", namespace, "pods").
		Param("labelSelector", selector.String()).
		DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("unable to fetch metrics from resource metrics API: %w", err)
	}
	list := &metricsv1beta1.PodMetricsList{}
	if err := json.Unmarshal(raw, list); err != nil {
		return nil, fmt.Errorf("decode pod metrics: %w", err)
	}
	if len(list.Items) == 0 {
		return nil, fmt.Errorf("no metrics returned from resource metrics API")
	}
	out := make(map[string]int64, len(list.Items))
	for _, pm := range list.Items {
		var sum int64
		for _, c := range pm.Containers {
			if q, ok := c.Usage[res]; ok {
				sum += q.MilliValue()
			}
		}
		out[pm.Name] = sum
	}
	return out, nil
}

// scaleTarget reads and writes the /scale subresource of the target.
type scaleTarget struct {
	get    func(ctx context.Context) (*autoscalingv1.Scale, error)
	update func(ctx context.Context, s *autoscalingv1.Scale) (*autoscalingv1.Scale, error)
}

// scaleTargetFor supports the built-in scalable workloads.
func scaleTargetFor(client kubernetes.Interface, namespace string, ref autoscalingv2.CrossVersionObjectReference) (scaleTarget, error) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return scaleTarget{}, fmt.Errorf("invalid API version in scale target reference: %w", err)
	}
	type scaler interface {
		GetScale(ctx context.Context, name string, opts metav1.GetOptions) (*autoscalingv1.Scale, error)
		UpdateScale(ctx context.Context, name string, s *autoscalingv1.Scale, opts metav1.UpdateOptions) (*autoscalingv1.Scale, error)
	}
	var sc scaler
	switch gv.Group + "/" + ref.Kind {
	case "apps/Deployment", "extensions/Deployment":
		sc = client.AppsV1().Deployments(namespace)
	case "apps/ReplicaSet", "extensions/ReplicaSet":
		sc = client.AppsV1().ReplicaSets(namespace)
	case "apps/StatefulSet":
		sc = client.AppsV1().StatefulSets(namespace)
	case "/ReplicationController":
		sc = client.CoreV1().ReplicationControllers(namespace)
	default:
		return scaleTarget{}, fmt.Errorf("no scale subresource known for %s, Kind=%s", ref.APIVersion, ref.Kind)
	}
	return scaleTarget{
		get: func(ctx context.Context) (*autoscalingv1.Scale, error) {
			return sc.GetScale(ctx, ref.Name, metav1.GetOptions{})
		},
		update: func(ctx context.Context, s *autoscalingv1.Scale) (*autoscalingv1.Scale, error) {
			return sc.UpdateScale(ctx, ref.Name, s, metav1.UpdateOptions{})
		},
	}, nil
}
