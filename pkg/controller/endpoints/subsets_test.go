package endpoints

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func pod(name, ip string, ready bool, port int32) *corev1.Pod {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: port}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}},
	}
}

func TestSubsets(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}}}
	terminating := pod("d", "10.42.0.9", true, 8080)
	terminating.DeletionTimestamp = &metav1.Time{}
	got := subsets(svc, []*corev1.Pod{pod("b", "10.42.0.3", true, 8080), pod("a", "10.42.0.2", false, 8080),
		pod("c", "10.42.0.4", true, 9090), terminating})
	addr := func(name, ip string) corev1.EndpointAddress {
		return corev1.EndpointAddress{IP: ip, NodeName: ptr.To("n1"), TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: name}}
	}
	want := []corev1.EndpointSubset{
		{Addresses: []corev1.EndpointAddress{addr("b", "10.42.0.3")}, NotReadyAddresses: []corev1.EndpointAddress{addr("a", "10.42.0.2")},
			Ports: []corev1.EndpointPort{{Name: "http", Port: 8080, Protocol: corev1.ProtocolTCP}}},
		{Addresses: []corev1.EndpointAddress{addr("c", "10.42.0.4")},
			Ports: []corev1.EndpointPort{{Name: "http", Port: 9090, Protocol: corev1.ProtocolTCP}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("subsets (-want +got):\n%s", diff)
	}
	svc.Spec.PublishNotReadyAddresses = true
	got = subsets(svc, []*corev1.Pod{pod("a", "10.42.0.2", false, 8080), terminating})
	if len(got) != 1 || len(got[0].Addresses) != 2 || len(got[0].NotReadyAddresses) != 0 {
		t.Errorf("publishNotReadyAddresses: %+v, want both pods ready", got)
	}
}
