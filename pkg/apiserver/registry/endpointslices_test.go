package registry

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/utils/ptr"
)

func testEndpointSlice() *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  objectMeta("web-abc12"),
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.42.0.5"}, NodeName: ptr.To("node-1")}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](80)}},
	}
}

func TestEndpointSliceDefaults(t *testing.T) {
	r := groupResource(t, "endpointslices")
	s := testEndpointSlice()
	s.Ports = append(s.Ports, discoveryv1.EndpointPort{Port: ptr.To[int32](53), Protocol: ptr.To(corev1.ProtocolUDP)})
	r.Default(s)
	want := []discoveryv1.EndpointPort{
		{Name: ptr.To("http"), Port: ptr.To[int32](80), Protocol: ptr.To(corev1.ProtocolTCP)},
		{Name: ptr.To(""), Port: ptr.To[int32](53), Protocol: ptr.To(corev1.ProtocolUDP)},
	}
	if diff := cmp.Diff(want, s.Ports); diff != "" {
		t.Errorf("ports (-want +got):\n%s", diff)
	}
}

func TestEndpointSliceValidation(t *testing.T) {
	r := groupResource(t, "endpointslices")
	many := make([]discoveryv1.Endpoint, 1001)
	for i := range many {
		many[i] = discoveryv1.Endpoint{Addresses: []string{fmt.Sprintf("10.42.%d.%d", i/250, i%250+1)}}
	}
	cases := []struct {
		name   string
		mutate func(*discoveryv1.EndpointSlice)
		want   []string
	}{
		{"valid", func(*discoveryv1.EndpointSlice) {}, nil},
		{"no address type", func(s *discoveryv1.EndpointSlice) { s.AddressType = "" }, []string{"addressType: Required value: "}},
		{"bad address type", func(s *discoveryv1.EndpointSlice) { s.AddressType = "IPX" },
			[]string{`addressType: Unsupported value: supported values: "IPv4", "IPv6", "FQDN"`}},
		{"IPv6 in IPv4 slice", func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses = []string{"fd00::1"} },
			[]string{"endpoints[0].addresses[0]: Invalid value: must be a valid IPv4 address"}},
		{"IPv6 slice", func(s *discoveryv1.EndpointSlice) {
			s.AddressType = discoveryv1.AddressTypeIPv6
			s.Endpoints[0].Addresses = []string{"fd00::1"}
		}, nil},
		{"FQDN slice", func(s *discoveryv1.EndpointSlice) {
			s.AddressType = discoveryv1.AddressTypeFQDN
			s.Endpoints[0].Addresses = []string{"db.example.com"}
		}, nil},
		{"no addresses", func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses = nil },
			[]string{"endpoints[0].addresses: Required value: must contain at least 1 address"}},
		{"too many endpoints", func(s *discoveryv1.EndpointSlice) { s.Endpoints = many },
			[]string{"endpoints: Too many: must have at most 1000 items"}},
		{"duplicate port names", func(s *discoveryv1.EndpointSlice) { s.Ports = append(s.Ports, s.Ports[0]) },
			[]string{"ports[1].name: Duplicate value: "}},
		{"bad protocol", func(s *discoveryv1.EndpointSlice) { s.Ports[0].Protocol = ptr.To(corev1.Protocol("ICMP")) },
			[]string{`ports[0].protocol: Unsupported value: supported values: "TCP", "UDP", "SCTP"`}},
		{"bad port", func(s *discoveryv1.EndpointSlice) { s.Ports[0].Port = ptr.To[int32](70000) },
			[]string{"ports[0].port: Invalid value: must be between 1 and 65535, inclusive"}},
	}
	for _, c := range cases {
		checkErrors(t, c.name, createErrors(r, mutated(testEndpointSlice(), c.mutate)), c.want)
	}
	old := testEndpointSlice()
	changed := mutated(old, func(s *discoveryv1.EndpointSlice) {
		s.AddressType = discoveryv1.AddressTypeFQDN
		s.Endpoints[0].Addresses = []string{"a.example"}
	})
	checkErrors(t, "address type change", updateErrors(r, changed, old.DeepCopy()), []string{"addressType: Invalid value: field is immutable"})
}

func TestEndpointSliceTable(t *testing.T) {
	r := groupResource(t, "endpointslices")
	if diff := cmp.Diff([]string{"NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"}, columnNames(r)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	s := testEndpointSlice()
	s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{"10.42.0.6", "10.42.0.7", "10.42.0.8"}})
	checkRow(t, r, s, []any{"web-abc12", "IPv4", "80", "10.42.0.5,10.42.0.6,10.42.0.7 + 1 more...", "AGE"})
	s.Ports, s.Endpoints = nil, nil
	checkRow(t, r, s, []any{"web-abc12", "IPv4", "<unset>", "<unset>", "AGE"})
}
