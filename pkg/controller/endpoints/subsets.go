package endpoints

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/pkg/controller/endpointslice"
)

// subsets computes the Endpoints subsets of a Service from its pods: one
// subset per distinct port list, addresses sorted by IP. Terminating pods
// are left out unless the Service publishes not-ready addresses.
func subsets(svc *corev1.Service, pods []*corev1.Pod) []corev1.EndpointSubset {
	type bucket struct {
		ports           []corev1.EndpointPort
		ready, notReady []corev1.EndpointAddress
	}
	byKey := map[string]*bucket{}
	for _, pod := range pods {
		if !endpointslice.PodIsEndpoint(pod, svc.Spec.PublishNotReadyAddresses) {
			continue
		}
		sp := endpointslice.EndpointPorts(svc, pod)
		if len(sp) == 0 && len(svc.Spec.Ports) > 0 {
			continue
		}
		if len(svc.Spec.Ports) == 0 && !endpointslice.IsHeadless(svc) {
			continue
		}
		ports := make([]corev1.EndpointPort, len(sp))
		keyParts := make([]string, len(sp))
		for i, p := range sp {
			ports[i] = corev1.EndpointPort{Name: ptr.Deref(p.Name, ""), Port: ptr.Deref(p.Port, 0),
				Protocol: ptr.Deref(p.Protocol, corev1.ProtocolTCP), AppProtocol: p.AppProtocol}
			keyParts[i] = ports[i].Name + "/" + string(ports[i].Protocol) + "/" + strconv.Itoa(int(ports[i].Port))
		}
		slices.SortFunc(ports, func(a, b corev1.EndpointPort) int { return strings.Compare(a.Name, b.Name) })
		slices.Sort(keyParts)
		key := strings.Join(keyParts, ",")
		for _, family := range endpointslice.Families(svc) {
			ip := endpointslice.PodIP(pod, family)
			if ip == "" {
				continue
			}
			b := byKey[key]
			if b == nil {
				b = &bucket{ports: ports}
				byKey[key] = b
			}
			addr := corev1.EndpointAddress{
				IP: ip, Hostname: endpointslice.Hostname(svc, pod),
				TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
			}
			if pod.Spec.NodeName != "" {
				addr.NodeName = ptr.To(pod.Spec.NodeName)
			}
			if endpointslice.Ready(svc, pod) {
				b.ready = append(b.ready, addr)
			} else {
				b.notReady = append(b.notReady, addr)
			}
		}
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	byIP := func(a, b corev1.EndpointAddress) int { return cmp.Compare(a.IP, b.IP) }
	var out []corev1.EndpointSubset
	for _, k := range keys {
		b := byKey[k]
		slices.SortFunc(b.ready, byIP)
		slices.SortFunc(b.notReady, byIP)
		s := corev1.EndpointSubset{Addresses: b.ready, NotReadyAddresses: b.notReady}
		if len(b.ports) > 0 {
			s.Ports = b.ports
		}
		out = append(out, s)
	}
	return out
}
