package registry

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestEndpointsValidation(t *testing.T) {
	r := coreResource(t, "endpoints")
	tests := []struct {
		name    string
		subsets []corev1.EndpointSubset
		want    []string
	}{
		{"valid", []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: "10.42.0.5"}}, Ports: []corev1.EndpointPort{{Port: 80}}}}, nil},
		{"no addresses", []corev1.EndpointSubset{{Ports: []corev1.EndpointPort{{Port: 80}}}},
			[]string{"subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`"}},
		{"bad addresses", []corev1.EndpointSubset{{
			Addresses:         []corev1.EndpointAddress{{IP: "10.42.0.500"}, {IP: "127.0.0.1"}},
			NotReadyAddresses: []corev1.EndpointAddress{{IP: "169.254.1.1"}},
		}}, []string{
			"subsets[0].addresses[0].ip: Invalid value: must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
			"subsets[0].addresses[1].ip: Invalid value: may not be in the loopback range (127.0.0.0/8, ::1/128)",
			"subsets[0].notReadyAddresses[0].ip: Invalid value: may not be in the link-local range (169.254.0.0/16, fe80::/10)",
		}},
		{"ports", []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: "10.42.0.5"}},
			Ports:     []corev1.EndpointPort{{Port: 80}, {Name: "b", Port: 0, Protocol: "ICMP"}},
		}}, []string{
			"subsets[0].ports[0].name: Required value: ",
			"subsets[0].ports[1].port: Invalid value: must be between 1 and 65535, inclusive",
			`subsets[0].ports[1].protocol: Unsupported value: supported values: "SCTP", "TCP", "UDP"`,
		}},
	}
	for _, tt := range tests {
		ep := &corev1.Endpoints{ObjectMeta: objectMeta("web"), Subsets: tt.subsets}
		checkErrors(t, tt.name, createErrors(r, ep), tt.want)
	}
}

func TestEndpointsTable(t *testing.T) {
	r := coreResource(t, "endpoints")
	if diff := cmp.Diff([]string{"NAME", "ENDPOINTS", "AGE"}, columnNames(r)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	addrs := func(ips ...string) []corev1.EndpointAddress {
		var out []corev1.EndpointAddress
		for _, ip := range ips {
			out = append(out, corev1.EndpointAddress{IP: ip})
		}
		return out
	}
	tests := []struct {
		name    string
		subsets []corev1.EndpointSubset
		want    string
	}{
		{"none", nil, "<none>"},
		{"two", []corev1.EndpointSubset{{Addresses: addrs("10.42.0.5", "10.42.1.7"), Ports: []corev1.EndpointPort{{Port: 8080}}}}, "10.42.0.5:8080,10.42.1.7:8080"},
		{"more than three", []corev1.EndpointSubset{{Addresses: addrs("10.0.0.1", "10.0.0.2", "10.0.0.3"), Ports: []corev1.EndpointPort{{Port: 80}, {Port: 443}}}},
			"10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 3 more..."},
		{"headless without ports", []corev1.EndpointSubset{{Addresses: addrs("10.0.0.1")}}, "10.0.0.1"},
		{"ipv6", []corev1.EndpointSubset{{Addresses: addrs("fd00::1"), Ports: []corev1.EndpointPort{{Port: 80}}}}, "[fd00::1]:80"},
	}
	for _, tt := range tests {
		checkRow(t, r, &corev1.Endpoints{ObjectMeta: objectMeta("web"), Subsets: tt.subsets}, []any{"web", tt.want, "AGE"})
	}
}
