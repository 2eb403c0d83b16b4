package endpointslice

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	corelisters "k8s.io/client-go/listers/core/v1"

	"github.com/tugcluster/tug/pkg/controller/replicaset"
)

// Selects reports whether the Service picks pods by selector (the only
// Services whose endpoints the controllers manage).
func Selects(svc *corev1.Service) bool {
	return len(svc.Spec.Selector) > 0 && svc.Spec.Type != corev1.ServiceTypeExternalName
}

// IsHeadless reports whether the Service has no cluster IP.
func IsHeadless(svc *corev1.Service) bool { return svc.Spec.ClusterIP == corev1.ClusterIPNone }

// PodIsEndpoint reports whether a pod can be an endpoint at all: it has an
// address and has not finished; a terminating pod counts only when
// includeTerminating.
func PodIsEndpoint(pod *corev1.Pod, includeTerminating bool) bool {
	if pod.Status.PodIP == "" && len(pod.Status.PodIPs) == 0 {
		return false
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return false
	}
	return includeTerminating || pod.DeletionTimestamp == nil
}

// Ready is the endpoint's ready condition: the pod is Ready and not
// terminating, or the Service publishes not-ready addresses.
func Ready(svc *corev1.Service, pod *corev1.Pod) bool {
	return svc.Spec.PublishNotReadyAddresses || (replicaset.IsPodReady(pod) && pod.DeletionTimestamp == nil)
}

// PodIP returns the pod's address of one family ("" when it has none).
func PodIP(pod *corev1.Pod, family corev1.IPFamily) string {
	ips := []string{pod.Status.PodIP}
	for _, ip := range pod.Status.PodIPs {
		ips = append(ips, ip.IP)
	}
	for _, s := range ips {
		a, err := netip.ParseAddr(s)
		if err != nil {
			continue
		}
		if a.Is4() == (family == corev1.IPv4Protocol) {
			return a.String()
		}
	}
	return ""
}

// Families are the Service's IP families (IPv4 when it names none).
func Families(svc *corev1.Service) []corev1.IPFamily {
	if len(svc.Spec.IPFamilies) == 0 {
		return []corev1.IPFamily{corev1.IPv4Protocol}
	}
	return svc.Spec.IPFamilies
}

// ResolvePort finds the pod port a Service port sends to: a numeric
// targetPort as is (the port number when unset), a named one by the name
// and protocol of a container port. ok is false when the name is not
// declared by any container.
func ResolvePort(pod *corev1.Pod, sp *corev1.ServicePort) (port int32, ok bool) {
	tp := sp.TargetPort
	switch {
	case tp.Type == intstr.String && tp.StrVal != "":
		proto := sp.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		for _, c := range pod.Spec.Containers {
			for _, cp := range c.Ports {
				cpProto := cp.Protocol
				if cpProto == "" {
					cpProto = corev1.ProtocolTCP
				}
				if cp.Name == tp.StrVal && cpProto == proto {
					return cp.ContainerPort, true
				}
			}
		}
		return 0, false
	case tp.Type == intstr.Int && tp.IntVal != 0:
		return tp.IntVal, true
	}
	return sp.Port, true
}

// EndpointPorts resolves every port of the Service for one pod, leaving
// out the ones the pod does not declare.
func EndpointPorts(svc *corev1.Service, pod *corev1.Pod) []discoveryv1.EndpointPort {
	var out []discoveryv1.EndpointPort
	for i := range svc.Spec.Ports {
		sp := &svc.Spec.Ports[i]
		port, ok := ResolvePort(pod, sp)
		if !ok {
			continue
		}
		name, proto := sp.Name, sp.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		out = append(out, discoveryv1.EndpointPort{Name: &name, Protocol: &proto, Port: &port, AppProtocol: sp.AppProtocol})
	}
	return out
}

// Hostname is the DNS name the pod has under a headless Service: its
// spec.hostname when its subdomain is the Service's name.
func Hostname(svc *corev1.Service, pod *corev1.Pod) string {
	if pod.Spec.Hostname != "" && pod.Spec.Subdomain == svc.Name && pod.Namespace == svc.Namespace {
		return pod.Spec.Hostname
	}
	return ""
}

// ServicesSelecting lists the selector Services of the pod's namespace
// that select it.
func ServicesSelecting(services corelisters.ServiceLister, pod *corev1.Pod) []*corev1.Service {
	all, err := services.Services(pod.Namespace).List(labels.Everything())
	if err != nil {
		return nil
	}
	var out []*corev1.Service
	for _, s := range all {
		if Selects(s) && labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(pod.Labels)) {
			out = append(out, s)
		}
	}
	return out
}

func isPodReady(pod *corev1.Pod) bool { return replicaset.IsPodReady(pod) }
