package registry

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

func serviceTable() *Table {
	return &Table{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			tableColumn("Type", "string", "type determines how the Service is exposed.", 0),
			tableColumn("Cluster-IP", "string", "clusterIP is the IP address of the service and is usually assigned randomly.", 0),
			tableColumn("External-IP", "string", "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.", 0),
			tableColumn("Port(s)", "string", "The list of ports that are exposed by this service.", 0),
			ageColumn(),
			tableColumn("Selector", "string", "Route service traffic to pods with label keys and values matching this selector.", 1),
		},
		Row: tableRow(serviceRow),
	}
}

func serviceRow(svc *corev1.Service) []any {
	return []any{
		svc.Name,
		string(svc.Spec.Type),
		orNone(svc.Spec.ClusterIP),
		serviceExternalIP(svc),
		servicePorts(svc.Spec.Ports),
		formatAge(svc.CreationTimestamp),
		labels.FormatLabels(svc.Spec.Selector),
	}
}

// serviceExternalIP renders EXTERNAL-IP: the external IPs, plus the load
// balancer's addresses ("<pending>" until it has some), or the external
// name.
func serviceExternalIP(svc *corev1.Service) string {
	switch svc.Spec.Type {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
		return joinOrNone(svc.Spec.ExternalIPs)
	case corev1.ServiceTypeLoadBalancer:
		var addrs []string
		for _, in := range svc.Status.LoadBalancer.Ingress {
			if in.IP != "" {
				addrs = append(addrs, in.IP)
			} else if in.Hostname != "" {
				addrs = append(addrs, in.Hostname)
			}
		}
		addrs = append(addrs, svc.Spec.ExternalIPs...)
		if len(addrs) == 0 {
			return "<pending>"
		}
		return strings.Join(addrs, ",")
	case corev1.ServiceTypeExternalName:
		return svc.Spec.ExternalName
	}
	return unknownCell
}

// servicePorts renders PORT(S): "80/TCP" or "80:30080/TCP" per port.
func servicePorts(ports []corev1.ServicePort) string {
	cells := make([]string, 0, len(ports))
	for _, p := range ports {
		if p.NodePort > 0 {
			cells = append(cells, fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol))
		} else {
			cells = append(cells, fmt.Sprintf("%d/%s", p.Port, p.Protocol))
		}
	}
	return joinOrNone(cells)
}
