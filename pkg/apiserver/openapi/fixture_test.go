package openapi

import (
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tugcluster/tug/pkg/apiserver/registry"
)

// testResources is a cross-section of what the API server serves:
// namespaced and cluster-scoped, core and named groups, status and scale.
func testResources() []*registry.Resource {
	res := func(group, version, name, kind string, namespaced bool, newObj, newList func() runtime.Object) *registry.Resource {
		return &registry.Resource{Group: group, Version: version, Name: name, Kind: kind, Namespaced: namespaced, New: newObj, NewList: newList}
	}
	pods := res("", "v1", "pods", "Pod", true, func() runtime.Object { return &corev1.Pod{} }, func() runtime.Object { return &corev1.PodList{} })
	pods.Status = true
	nodes := res("", "v1", "nodes", "Node", false, func() runtime.Object { return &corev1.Node{} }, func() runtime.Object { return &corev1.NodeList{} })
	nodes.Status = true
	deployments := res("apps", "v1", "deployments", "Deployment", true, func() runtime.Object { return &appsv1.Deployment{} }, func() runtime.Object { return &appsv1.DeploymentList{} })
	deployments.Status = true
	deployments.Scale = &registry.ScaleAccess{}
	return []*registry.Resource{
		pods, nodes, deployments,
		res("", "v1", "services", "Service", true, func() runtime.Object { return &corev1.Service{} }, func() runtime.Object { return &corev1.ServiceList{} }),
		res("", "v1", "configmaps", "ConfigMap", true, func() runtime.Object { return &corev1.ConfigMap{} }, func() runtime.Object { return &corev1.ConfigMapList{} }),
		res("", "v1", "secrets", "Secret", true, func() runtime.Object { return &corev1.Secret{} }, func() runtime.Object { return &corev1.SecretList{} }),
		res("", "v1", "namespaces", "Namespace", false, func() runtime.Object { return &corev1.Namespace{} }, func() runtime.Object { return &corev1.NamespaceList{} }),
		res("apps", "v1", "statefulsets", "StatefulSet", true, func() runtime.Object { return &appsv1.StatefulSet{} }, func() runtime.Object { return &appsv1.StatefulSetList{} }),
		res("batch", "v1", "jobs", "Job", true, func() runtime.Object { return &batchv1.Job{} }, func() runtime.Object { return &batchv1.JobList{} }),
		res("coordination.k8s.io", "v1", "leases", "Lease", true, func() runtime.Object { return &coordinationv1.Lease{} }, func() runtime.Object { return &coordinationv1.LeaseList{} }),
		res("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", true, func() runtime.Object { return &discoveryv1.EndpointSlice{} }, func() runtime.Object { return &discoveryv1.EndpointSliceList{} }),
		res("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", true, func() runtime.Object { return &autoscalingv2.HorizontalPodAutoscaler{} }, func() runtime.Object { return &autoscalingv2.HorizontalPodAutoscalerList{} }),
		res("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true, func() runtime.Object { return &policyv1.PodDisruptionBudget{} }, func() runtime.Object { return &policyv1.PodDisruptionBudgetList{} }),
	}
}

var testExtra = []ExtraKind{{Group: "policy", Version: "v1", Kind: "Eviction", Object: &policyv1.Eviction{}}}

var (
	sharedOnce    sync.Once
	sharedBuilder *Builder
	sharedErr     error
)

// testBuilder returns one Builder shared by the tests (documents are
// immutable once built).
func testBuilder(t testing.TB) *Builder {
	t.Helper()
	sharedOnce.Do(func() {
		sharedBuilder, sharedErr = New(testResources(), testExtra...)
		if sharedErr == nil {
			_, sharedErr = sharedBuilder.V2()
		}
	})
	if sharedErr != nil {
		t.Fatalf("build: %v", sharedErr)
	}
	return sharedBuilder
}
