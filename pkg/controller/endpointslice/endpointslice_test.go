package endpointslice

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func testPod(name, ip string, ready bool, ports ...corev1.ContainerPort) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: "uid-" + "x"},
		Spec:       corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Ports: ports}}},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip},
	}
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}
	return p
}

func TestResolvePort(t *testing.T) {
	pod := testPod("p", "10.42.0.5", true,
		corev1.ContainerPort{Name: "http", ContainerPort: 8080},
		corev1.ContainerPort{Name: "dns", ContainerPort: 5353, Protocol: corev1.ProtocolUDP})
	cases := []struct {
		sp   corev1.ServicePort
		want int32
		ok   bool
	}{
		{corev1.ServicePort{Port: 80, TargetPort: intstr.FromInt32(9000)}, 9000, true},
		{corev1.ServicePort{Port: 80}, 80, true},
		{corev1.ServicePort{Port: 80, TargetPort: intstr.FromString("http")}, 8080, true},
		{corev1.ServicePort{Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromString("dns")}, 5353, true},
		{corev1.ServicePort{Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("dns")}, 0, false},
		{corev1.ServicePort{Port: 80, TargetPort: intstr.FromString("nope")}, 0, false},
	}
	for _, c := range cases {
		got, ok := ResolvePort(pod, &c.sp)
		if got != c.want || ok != c.ok {
			t.Errorf("%+v: %d %v, want %d %v", c.sp, got, ok, c.want, c.ok)
		}
	}
}

func TestDesiredEndpointsConditionsAndGrouping(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}}}
	ready := testPod("a", "10.42.0.2", true, corev1.ContainerPort{Name: "http", ContainerPort: 8080})
	ready.Spec.Hostname, ready.Spec.Subdomain = "a-host", "web"
	notReady := testPod("b", "10.42.0.3", false, corev1.ContainerPort{Name: "http", ContainerPort: 8080})
	terminating := testPod("c", "10.42.0.4", true, corev1.ContainerPort{Name: "http", ContainerPort: 8080})
	terminating.DeletionTimestamp = &metav1.Time{}
	otherPort := testPod("d", "10.42.0.5", true, corev1.ContainerPort{Name: "http", ContainerPort: 9090})
	noPort := testPod("e", "10.42.0.6", true)
	noIP := testPod("f", "", true, corev1.ContainerPort{Name: "http", ContainerPort: 8080})
	groups := desiredEndpoints(svc, []*corev1.Pod{otherPort, terminating, notReady, ready, noPort, noIP}, map[string]string{"n1": "z1"})
	if len(groups) != 2 {
		t.Fatalf("%d groups, want 2 (ports 8080 and 9090)", len(groups))
	}
	g := groups[0]
	if *g.ports[0].Port != 8080 {
		g = groups[1]
	}
	type row struct {
		Name                        string
		Ready, Serving, Terminating bool
		Hostname, Zone              string
	}
	var got []row
	for _, ep := range g.endpoints {
		got = append(got, row{ep.TargetRef.Name, *ep.Conditions.Ready, *ep.Conditions.Serving, *ep.Conditions.Terminating,
			ptr.Deref(ep.Hostname, ""), ptr.Deref(ep.Zone, "")})
	}
	want := []row{
		{"a", true, true, false, "a-host", "z1"},
		{"b", false, false, false, "", "z1"},
		{"c", false, true, true, "", "z1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("endpoints (-want +got):\n%s", diff)
	}
	svc.Spec.PublishNotReadyAddresses = true
	groups = desiredEndpoints(svc, []*corev1.Pod{notReady}, nil)
	if !*groups[0].endpoints[0].Conditions.Ready {
		t.Error("publishNotReadyAddresses: not-ready pod not published as ready")
	}
}

func TestPlanSplitsAtMaxAndKeepsPlaceholder(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80}}}}
	var pods []*corev1.Pod
	for i := range 250 {
		pods = append(pods, testPod(fmt.Sprintf("p%03d", i), fmt.Sprintf("10.42.%d.%d", i/200, i%200+1), true))
	}
	specs := plan(svc, desiredEndpoints(svc, pods, nil), DefaultMaxPerSlice)
	var sizes []int
	for _, s := range specs {
		sizes = append(sizes, len(s.endpoints))
	}
	if diff := cmp.Diff([]int{100, 100, 50}, sizes); diff != "" {
		t.Errorf("slice sizes (-want +got):\n%s", diff)
	}
	specs = plan(svc, desiredEndpoints(svc, nil, nil), DefaultMaxPerSlice)
	if len(specs) != 1 || len(specs[0].endpoints) != 0 || specs[0].addressType != "IPv4" {
		t.Errorf("no pods: %+v, want one empty IPv4 slice", specs)
	}
}
