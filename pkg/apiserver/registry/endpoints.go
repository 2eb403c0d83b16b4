package registry

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func endpointsResource() *Resource {
	return &Resource{
		Version: "v1", Name: "endpoints", Singular: "endpoints", Kind: "Endpoints",
		ShortNames: []string{"ep"}, Namespaced: true,
		New:          func() runtime.Object { return &corev1.Endpoints{} },
		NewList:      func() runtime.Object { return &corev1.EndpointsList{} },
		NoGeneration: true,

		Default:        typedMutate(defaultEndpoints),
		Validate:       typedValidate(validateEndpoints),
		ValidateUpdate: typedValidateUpdate(func(ep, _ *corev1.Endpoints) field.ErrorList { return validateEndpoints(ep) }),
		Table: &Table{
			Columns: []metav1.TableColumnDefinition{
				nameColumn(),
				tableColumn("Endpoints", "string", "Endpoints is the list of endpoints comprising a service.", 0),
				ageColumn(),
			},
			Row: tableRow(func(ep *corev1.Endpoints) []any {
				return []any{ep.Name, formatEndpoints(ep), formatAge(ep.CreationTimestamp)}
			}),
		},
	}
}

func defaultEndpoints(ep *corev1.Endpoints) {
	for i := range ep.Subsets {
		for j := range ep.Subsets[i].Ports {
			if ep.Subsets[i].Ports[j].Protocol == "" {
				ep.Subsets[i].Ports[j].Protocol = corev1.ProtocolTCP
			}
		}
	}
}

func validateEndpoints(ep *corev1.Endpoints) field.ErrorList {
	var errs field.ErrorList
	for i, ss := range ep.Subsets {
		sp := field.NewPath("subsets").Index(i)
		if len(ss.Addresses) == 0 && len(ss.NotReadyAddresses) == 0 {
			errs = append(errs, field.Required(sp, "must specify `addresses` or `notReadyAddresses`"))
		}
		for j, a := range ss.Addresses {
			errs = append(errs, validateEndpointAddress(a, sp.Child("addresses").Index(j))...)
		}
		for j, a := range ss.NotReadyAddresses {
			errs = append(errs, validateEndpointAddress(a, sp.Child("notReadyAddresses").Index(j))...)
		}
		names := sets.New[string]()
		for j, port := range ss.Ports {
			pp := sp.Child("ports").Index(j)
			if port.Name == "" {
				if len(ss.Ports) > 1 {
					errs = append(errs, field.Required(pp.Child("name"), ""))
				}
			} else {
				errs = append(errs, validateDNSLabelField(port.Name, pp.Child("name"))...)
				if names.Has(port.Name) {
					errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
				}
				names.Insert(port.Name)
			}
			errs = append(errs, validatePortNumber(port.Port, pp.Child("port"))...)
			errs = append(errs, validateProtocol(port.Protocol, pp.Child("protocol"))...)
		}
	}
	return errs
}

func validateEndpointAddress(a corev1.EndpointAddress, p *field.Path) field.ErrorList {
	errs := validation.IsValidIP(p.Child("ip"), a.IP)
	if len(errs) == 0 {
		if addr, err := netip.ParseAddr(a.IP); err == nil {
			switch {
			case addr.IsUnspecified():
				errs = append(errs, field.Invalid(p.Child("ip"), a.IP, "may not be unspecified (0.0.0.0, ::)"))
			case addr.IsLoopback():
				errs = append(errs, field.Invalid(p.Child("ip"), a.IP, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
			case addr.IsLinkLocalUnicast():
				errs = append(errs, field.Invalid(p.Child("ip"), a.IP, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"))
			case addr.IsLinkLocalMulticast():
				errs = append(errs, field.Invalid(p.Child("ip"), a.IP, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"))
			}
		}
	}
	if a.Hostname != "" {
		errs = append(errs, validateDNSLabelField(a.Hostname, p.Child("hostname"))...)
	}
	if a.NodeName != nil && *a.NodeName != "" {
		errs = append(errs, validateDNSSubdomainField(*a.NodeName, p.Child("nodeName"))...)
	}
	return errs
}

// formatEndpoints renders ENDPOINTS: up to three "ip:port" entries, then
// " + N more...".
func formatEndpoints(ep *corev1.Endpoints) string {
	if len(ep.Subsets) == 0 {
		return noneCell
	}
	const max = 3
	var list []string
	count := 0
	for _, ss := range ep.Subsets {
		if len(ss.Ports) == 0 {
			count += len(ss.Addresses)
			for _, a := range ss.Addresses {
				if len(list) < max {
					list = append(list, a.IP)
				}
			}
			continue
		}
		for _, port := range ss.Ports {
			count += len(ss.Addresses)
			for _, a := range ss.Addresses {
				if len(list) < max {
					list = append(list, net.JoinHostPort(a.IP, strconv.Itoa(int(port.Port))))
				}
			}
		}
	}
	s := strings.Join(list, ",")
	if count > max {
		return fmt.Sprintf("%s + %d more...", s, count-max)
	}
	return s
}
