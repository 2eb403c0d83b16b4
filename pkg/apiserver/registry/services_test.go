package registry

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func testService() *corev1.Service {
	return &corev1.Service{
		ObjectMeta: objectMeta("web"),
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Port: 80}},
		},
	}
}

func TestServiceDefaults(t *testing.T) {
	r := coreResource(t, "services")
	svc := testService()
	svc.Spec.Type = corev1.ServiceTypeNodePort
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "1.2.3.4"}}
	if errs := createErrors(r, svc); len(errs) != 0 {
		t.Fatalf("valid service rejected: %v", errs)
	}
	want := corev1.ServiceSpec{
		Type:                  corev1.ServiceTypeNodePort,
		Selector:              map[string]string{"app": "web"},
		Ports:                 []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(80)}},
		SessionAffinity:       corev1.ServiceAffinityNone,
		ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyCluster,
		InternalTrafficPolicy: ptr.To(corev1.ServiceInternalTrafficPolicyCluster),
		IPFamilyPolicy:        ptr.To(corev1.IPFamilyPolicySingleStack),
		IPFamilies:            []corev1.IPFamily{corev1.IPv4Protocol},
	}
	if diff := cmp.Diff(want, svc.Spec); diff != "" {
		t.Errorf("defaulted spec (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(corev1.ServiceStatus{}, svc.Status); diff != "" {
		t.Errorf("status not cleared on create:\n%s", diff)
	}

	lb := testService()
	lb.Spec.Type = corev1.ServiceTypeLoadBalancer
	lb.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
	lb.Spec.ClusterIPs = []string{"10.43.0.10"}
	r.Default(lb)
	if !ptr.Deref(lb.Spec.AllocateLoadBalancerNodePorts, false) || lb.Spec.ClusterIP != "10.43.0.10" ||
		ptr.Deref(lb.Spec.SessionAffinityConfig.ClientIP.TimeoutSeconds, 0) != 10800 {
		t.Errorf("load balancer defaults: %+v", lb.Spec)
	}
}

func TestServiceValidation(t *testing.T) {
	r := coreResource(t, "services")
	tests := []struct {
		name   string
		mutate func(*corev1.Service)
		want   []string
	}{
		{"valid", func(*corev1.Service) {}, nil},
		{"type", func(s *corev1.Service) { s.Spec.Type = "Magic" },
			[]string{`spec.type: Unsupported value: supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"`}},
		{"ports required", func(s *corev1.Service) { s.Spec.Ports = nil }, []string{"spec.ports: Required value: "}},
		{"headless without ports", func(s *corev1.Service) { s.Spec.Ports = nil; s.Spec.ClusterIP = "None" }, nil},
		{"port range", func(s *corev1.Service) { s.Spec.Ports[0].Port = 0 }, []string{
			"spec.ports[0].port: Invalid value: must be between 1 and 65535, inclusive",
			"spec.ports[0].targetPort: Invalid value: must be between 1 and 65535, inclusive",
		}},
		{"names required with several ports", func(s *corev1.Service) {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "https", Port: 443})
		}, []string{"spec.ports[0].name: Required value: "}},
		{"duplicate port names", func(s *corev1.Service) {
			s.Spec.Ports = []corev1.ServicePort{{Name: "web", Port: 80}, {Name: "web", Port: 81}}
		}, []string{"spec.ports[1].name: Duplicate value: "}},
		{"protocol", func(s *corev1.Service) { s.Spec.Ports[0].Protocol = "HTTP" },
			[]string{`spec.ports[0].protocol: Unsupported value: supported values: "SCTP", "TCP", "UDP"`}},
		{"named target port", func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = intstr.FromString("http") }, nil},
		{"bad target port", func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = intstr.FromInt32(70000) },
			[]string{"spec.ports[0].targetPort: Invalid value: must be between 1 and 65535, inclusive"}},
		{"node port on ClusterIP", func(s *corev1.Service) { s.Spec.Ports[0].NodePort = 30080 },
			[]string{"spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"}},
		{"node port on NodePort", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeNodePort
			s.Spec.Ports[0].NodePort = 30080
		}, nil},
		{"bad cluster IP", func(s *corev1.Service) { s.Spec.ClusterIP = "10.43.0.300" },
			[]string{"spec.clusterIPs[0]: Invalid value: must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"}},
		{"headless NodePort", func(s *corev1.Service) { s.Spec.ClusterIP = "None"; s.Spec.Type = corev1.ServiceTypeNodePort },
			[]string{"spec.clusterIPs[0]: Invalid value: may not be set to 'None' for NodePort services"}},
		{"selector", func(s *corev1.Service) { s.Spec.Selector = map[string]string{"app": "no spaces"} },
			[]string{"spec.selector: Invalid value: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"}},
		{"external name", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeExternalName
			s.Spec.ExternalName = "db.example.com"
			s.Spec.Ports = nil
		}, nil},
		{"external name required", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeExternalName },
			[]string{"spec.externalName: Required value: "}},
		{"external traffic policy on ClusterIP", func(s *corev1.Service) { s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal },
			[]string{"spec.externalTrafficPolicy: Invalid value: may only be set when `type` is 'NodePort' or 'LoadBalancer'"}},
	}
	for _, tt := range tests {
		svc := testService()
		tt.mutate(svc)
		checkErrors(t, tt.name, createErrors(r, svc), tt.want)
	}
}

func TestServiceUpdate(t *testing.T) {
	r := coreResource(t, "services")
	old := testService()
	old.Spec.Type = corev1.ServiceTypeNodePort
	old.Spec.ClusterIP = "10.43.0.10"
	old.Spec.Ports[0].NodePort = 30080
	r.Default(old)
	r.PrepareForCreate(old)

	// A re-applied manifest without the allocated values keeps them.
	applied := testService()
	applied.Spec.Type = corev1.ServiceTypeNodePort
	checkErrors(t, "re-apply", updateErrors(r, applied, old.DeepCopy()), nil)
	if applied.Spec.ClusterIP != "10.43.0.10" || applied.Spec.Ports[0].NodePort != 30080 || len(applied.Spec.IPFamilies) != 1 {
		t.Errorf("allocated values lost: %+v", applied.Spec)
	}

	moved := old.DeepCopy()
	moved.Spec.ClusterIP, moved.Spec.ClusterIPs = "10.43.0.11", nil
	checkErrors(t, "cluster IP change", updateErrors(r, moved, old.DeepCopy()),
		[]string{"spec.clusterIP: Invalid value: field is immutable"})

	toClusterIP := old.DeepCopy()
	toClusterIP.Spec.Type = corev1.ServiceTypeClusterIP
	checkErrors(t, "NodePort to ClusterIP", updateErrors(r, toClusterIP, old.DeepCopy()), nil)
	if toClusterIP.Spec.Ports[0].NodePort != 0 || toClusterIP.Spec.ExternalTrafficPolicy != "" {
		t.Errorf("node port fields kept for ClusterIP: %+v", toClusterIP.Spec)
	}

	toExternal := old.DeepCopy()
	toExternal.Spec.Type = corev1.ServiceTypeExternalName
	toExternal.Spec.ExternalName = "db.example.com"
	checkErrors(t, "to ExternalName", updateErrors(r, toExternal, old.DeepCopy()), nil)
	if toExternal.Spec.ClusterIP != "" || toExternal.Spec.IPFamilies != nil {
		t.Errorf("cluster IP kept for ExternalName: %+v", toExternal.Spec)
	}
}

func TestServiceTableAndFields(t *testing.T) {
	r := coreResource(t, "services")
	want := []string{"NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR*"}
	if diff := cmp.Diff(want, columnNames(r)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	svc := testService()
	svc.Spec.Type = corev1.ServiceTypeNodePort
	svc.Spec.ClusterIP = "10.43.0.10"
	svc.Spec.Ports = []corev1.ServicePort{{Name: "http", Port: 80, NodePort: 30080, Protocol: corev1.ProtocolTCP}, {Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}}
	checkRow(t, r, svc, []any{"web", "NodePort", "10.43.0.10", "<none>", "80:30080/TCP,53/UDP", "AGE", "app=web"})

	lb := testService()
	lb.Spec.Type = corev1.ServiceTypeLoadBalancer
	lb.Spec.Ports[0].Protocol = corev1.ProtocolTCP
	checkRow(t, r, lb, []any{"web", "LoadBalancer", "<none>", "<pending>", "80/TCP", "AGE", "app=web"})
	lb.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.1"}, {Hostname: "lb.example.com"}}
	checkRow(t, r, lb, []any{"web", "LoadBalancer", "<none>", "192.0.2.1,lb.example.com", "80/TCP", "AGE", "app=web"})

	ext := testService()
	ext.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com"}
	checkRow(t, r, ext, []any{"web", "ExternalName", "<none>", "db.example.com", "<none>", "AGE", "<none>"})

	if diff := cmp.Diff(map[string]string{"spec.clusterIP": "10.43.0.10", "spec.type": "NodePort"}, map[string]string(r.Fields(svc))); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}
