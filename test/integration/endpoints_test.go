package integration

import (
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
)

// setPodStatus gives a pod an address and a Ready condition, as its agent would.
func setPodStatus(t *testing.T, ns, name, ip string, ready bool) {
	t.Helper()
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		p, err := cluster.client.CoreV1().Pods(ns).Get(ctx(t), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		p.Status.Phase, p.Status.PodIP, p.Status.PodIPs = corev1.PodRunning, ip, []corev1.PodIP{{IP: ip}}
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st, LastTransitionTime: metav1.Now()}}
		_, err = cluster.client.CoreV1().Pods(ns).UpdateStatus(ctx(t), p, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("pod %s status: %v", name, err)
	}
}

// endpointState summarises a Service's slices and Endpoints as
// "name@ip:port ready" entries, sorted.
func endpointState(t *testing.T, ns, svc string) (fromSlices, fromEndpoints []string, err error) {
	list, err := cluster.client.DiscoveryV1().EndpointSlices(ns).List(ctx(t), metav1.ListOptions{
		LabelSelector: discoveryv1.LabelServiceName + "=" + svc + "," + discoveryv1.LabelManagedBy + "=endpointslice-controller.k8s.io"})
	if err != nil {
		return nil, nil, err
	}
	for _, s := range list.Items {
		for _, ep := range s.Endpoints {
			for _, p := range s.Ports {
				fromSlices = append(fromSlices, fmt.Sprintf("%s@%s:%d %v", ep.TargetRef.Name, ep.Addresses[0], *p.Port, *ep.Conditions.Ready))
			}
		}
	}
	ep, err := cluster.client.CoreV1().Endpoints(ns).Get(ctx(t), svc, metav1.GetOptions{})
	if err != nil {
		return nil, nil, err
	}
	for _, ss := range ep.Subsets {
		for _, p := range ss.Ports {
			for _, a := range ss.Addresses {
				fromEndpoints = append(fromEndpoints, fmt.Sprintf("%s@%s:%d true", a.TargetRef.Name, a.IP, p.Port))
			}
			for _, a := range ss.NotReadyAddresses {
				fromEndpoints = append(fromEndpoints, fmt.Sprintf("%s@%s:%d false", a.TargetRef.Name, a.IP, p.Port))
			}
		}
	}
	slices.Sort(fromSlices)
	slices.Sort(fromEndpoints)
	return fromSlices, fromEndpoints, nil
}

func TestServiceEndpointsFollowPods(t *testing.T) {
	ns := newNamespace(t)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}},
	}
	if _, err := cluster.client.CoreV1().Services(ns).Create(ctx(t), svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"web-1", "web-2"} {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": "web"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox",
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
		}
		if _, err := cluster.client.CoreV1().Pods(ns).Create(ctx(t), p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		setPodStatus(t, ns, name, fmt.Sprintf("10.42.9.%d", i+1), true)
	}
	expect := func(want []string) {
		t.Helper()
		eventually(t, 10*time.Second, func() (bool, string) {
			s, e, err := endpointState(t, ns, "web")
			if err != nil {
				return false, err.Error()
			}
			return slices.Equal(s, want) && slices.Equal(e, want), fmt.Sprintf("slices %q endpoints %q, want %q", s, e, want)
		})
	}
	expect([]string{"web-1@10.42.9.1:8080 true", "web-2@10.42.9.2:8080 true"})

	setPodStatus(t, ns, "web-2", "10.42.9.2", false)
	expect([]string{"web-1@10.42.9.1:8080 true", "web-2@10.42.9.2:8080 false"})

	if err := cluster.client.CoreV1().Pods(ns).Delete(ctx(t), "web-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	expect([]string{"web-2@10.42.9.2:8080 false"})
}
