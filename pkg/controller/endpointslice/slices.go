package endpointslice

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/utils/ptr"
)

// Labels and values that mark the slices this controller manages.
const (
	ManagedBy          = "endpointslice-controller.k8s.io"
	HeadlessLabel      = "service.kubernetes.io/headless"
	DefaultMaxPerSlice = 100
)

// group is the endpoints of one address family sharing one port list.
type group struct {
	addressType discoveryv1.AddressType
	ports       []discoveryv1.EndpointPort
	endpoints   []discoveryv1.Endpoint
}

// portsKey identifies a port list regardless of order.
func portsKey(ports []discoveryv1.EndpointPort) string {
	parts := make([]string, len(ports))
	for i, p := range ports {
		parts[i] = fmt.Sprintf("%s/%s/%d/%s", ptr.Deref(p.Name, ""), ptr.Deref(p.Protocol, ""), ptr.Deref(p.Port, 0), ptr.Deref(p.AppProtocol, ""))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// sliceKey identifies which slices may hold an endpoint group.
func sliceKey(addressType discoveryv1.AddressType, ports []discoveryv1.EndpointPort) string {
	return string(addressType) + "|" + portsKey(ports)
}

// desiredEndpoints groups the Service's pods into endpoint groups, one per
// address family and port list, each sorted by pod name. zones maps node
// names to their topology zone.
func desiredEndpoints(svc *corev1.Service, pods []*corev1.Pod, zones map[string]string) []*group {
	byKey := map[string]*group{}
	var order []string
	sorted := slices.Clone(pods)
	slices.SortFunc(sorted, func(a, b *corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	for _, pod := range sorted {
		if !PodIsEndpoint(pod, true) {
			continue
		}
		ports := EndpointPorts(svc, pod)
		if len(ports) == 0 && len(svc.Spec.Ports) > 0 {
			continue
		}
		for _, family := range Families(svc) {
			ip := PodIP(pod, family)
			if ip == "" {
				continue
			}
			at := discoveryv1.AddressTypeIPv4
			if family == corev1.IPv6Protocol {
				at = discoveryv1.AddressTypeIPv6
			}
			key := sliceKey(at, ports)
			g := byKey[key]
			if g == nil {
				g = &group{addressType: at, ports: ports}
				byKey[key] = g
				order = append(order, key)
			}
			g.endpoints = append(g.endpoints, podEndpoint(svc, pod, ip, zones))
		}
	}
	slices.Sort(order)
	out := make([]*group, len(order))
	for i, k := range order {
		out[i] = byKey[k]
	}
	return out
}

func podEndpoint(svc *corev1.Service, pod *corev1.Pod, ip string, zones map[string]string) discoveryv1.Endpoint {
	terminating := pod.DeletionTimestamp != nil
	ep := discoveryv1.Endpoint{
		Addresses: []string{ip},
		Conditions: discoveryv1.EndpointConditions{
			Ready:       ptr.To(Ready(svc, pod)),
			Serving:     ptr.To(svc.Spec.PublishNotReadyAddresses || isPodReady(pod)),
			Terminating: ptr.To(terminating),
		},
		TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
	}
	if h := Hostname(svc, pod); h != "" {
		ep.Hostname = ptr.To(h)
	}
	if pod.Spec.NodeName != "" {
		ep.NodeName = ptr.To(pod.Spec.NodeName)
		if z := zones[pod.Spec.NodeName]; z != "" {
			ep.Zone = ptr.To(z)
		}
	}
	return ep
}

// chunk splits endpoints into runs of at most n.
func chunk(eps []discoveryv1.Endpoint, n int) [][]discoveryv1.Endpoint {
	var out [][]discoveryv1.Endpoint
	for len(eps) > n {
		out = append(out, eps[:n])
		eps = eps[n:]
	}
	if len(eps) > 0 {
		out = append(out, eps)
	}
	return out
}

// sliceLabels are the Service's labels plus the slice's own.
func sliceLabels(svc *corev1.Service) map[string]string {
	out := map[string]string{}
	for k, v := range svc.Labels {
		out[k] = v
	}
	out[discoveryv1.LabelServiceName] = svc.Name
	out[discoveryv1.LabelManagedBy] = ManagedBy
	if IsHeadless(svc) {
		out[HeadlessLabel] = ""
	} else {
		delete(out, HeadlessLabel)
	}
	return out
}
