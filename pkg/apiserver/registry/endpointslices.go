package registry

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// Limits Kubernetes puts on one EndpointSlice.
const (
	maxEndpointsPerSlice    = 1000
	maxAddressesPerEndpoint = 100
	maxPortsPerSlice        = 20000
	maxZoneHints            = 8
)

// EndpointSlices keep a generation: Kubernetes bumps it on every change
// outside metadata, which the API server's generic rule does too.
func endpointSlicesResource() *Resource {
	return &Resource{
		Group: "discovery.k8s.io", Version: "v1", Name: "endpointslices", Kind: "EndpointSlice", Singular: "endpointslice",
		Namespaced: true,
		New:        func() runtime.Object { return &discoveryv1.EndpointSlice{} },
		NewList:    func() runtime.Object { return &discoveryv1.EndpointSliceList{} },
		Default:    typedMutate(defaultEndpointSlice),
		Validate:   typedValidate(validateEndpointSlice),
		ValidateUpdate: typedValidateUpdate(func(s, old *discoveryv1.EndpointSlice) field.ErrorList {
			errs := validateEndpointSlice(s)
			return append(errs, validateImmutable(s.AddressType, old.AddressType, field.NewPath("addressType"))...)
		}),
		Table: endpointSlicesTable(),
	}
}

func defaultEndpointSlice(s *discoveryv1.EndpointSlice) {
	for i := range s.Ports {
		p := &s.Ports[i]
		if p.Name == nil {
			p.Name = ptr.To("")
		}
		if p.Protocol == nil {
			p.Protocol = ptr.To(corev1.ProtocolTCP)
		}
	}
}

func validateEndpointSlice(s *discoveryv1.EndpointSlice) field.ErrorList {
	errs := validateEnum(s.AddressType, field.NewPath("addressType"),
		discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6, discoveryv1.AddressTypeFQDN)
	errs = append(errs, validateSliceEndpoints(s.Endpoints, s.AddressType, field.NewPath("endpoints"))...)
	return append(errs, validateSlicePorts(s.Ports, field.NewPath("ports"))...)
}

func validateSliceEndpoints(endpoints []discoveryv1.Endpoint, addrType discoveryv1.AddressType, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(endpoints) > maxEndpointsPerSlice {
		errs = append(errs, field.TooMany(path, len(endpoints), maxEndpointsPerSlice))
		return errs
	}
	for i, ep := range endpoints {
		epPath := path.Index(i)
		addrPath := epPath.Child("addresses")
		switch n := len(ep.Addresses); {
		case n == 0:
			errs = append(errs, field.Required(addrPath, "must contain at least 1 address"))
		case n > maxAddressesPerEndpoint:
			errs = append(errs, field.TooMany(addrPath, n, maxAddressesPerEndpoint))
		}
		for j, addr := range ep.Addresses {
			errs = append(errs, validateSliceAddress(addr, addrType, addrPath.Index(j))...)
		}
		if ep.Hostname != nil {
			errs = append(errs, validateDNSLabelField(*ep.Hostname, epPath.Child("hostname"))...)
		}
		if ep.NodeName != nil {
			errs = append(errs, validateDNSSubdomainField(*ep.NodeName, epPath.Child("nodeName"))...)
		}
		if ep.Hints != nil {
			zonesPath := epPath.Child("hints", "forZones")
			if len(ep.Hints.ForZones) > maxZoneHints {
				errs = append(errs, field.TooMany(zonesPath, len(ep.Hints.ForZones), maxZoneHints))
			}
			seen := map[string]bool{}
			for k, z := range ep.Hints.ForZones {
				if seen[z.Name] {
					errs = append(errs, field.Duplicate(zonesPath.Index(k).Child("name"), z.Name))
				}
				seen[z.Name] = true
			}
		}
	}
	return errs
}

// validateSliceAddress checks one address against the slice's type.
func validateSliceAddress(addr string, addrType discoveryv1.AddressType, path *field.Path) field.ErrorList {
	switch addrType {
	case discoveryv1.AddressTypeFQDN:
		return validation.IsFullyQualifiedDomainName(path, addr)
	case discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6:
		if errs := validation.IsValidIP(path, addr); len(errs) > 0 {
			return errs
		}
		isV4 := net.ParseIP(addr).To4() != nil
		if addrType == discoveryv1.AddressTypeIPv4 && !isV4 {
			return field.ErrorList{field.Invalid(path, addr, "must be a valid IPv4 address")}
		}
		if addrType == discoveryv1.AddressTypeIPv6 && isV4 {
			return field.ErrorList{field.Invalid(path, addr, "must be a valid IPv6 address")}
		}
	}
	return nil
}

func validateSlicePorts(ports []discoveryv1.EndpointPort, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(ports) > maxPortsPerSlice {
		return field.ErrorList{field.TooMany(path, len(ports), maxPortsPerSlice)}
	}
	names := map[string]bool{}
	for i, p := range ports {
		pPath := path.Index(i)
		name := ptr.Deref(p.Name, "")
		if name != "" {
			errs = append(errs, validateDNSLabelField(name, pPath.Child("name"))...)
		}
		if names[name] {
			errs = append(errs, field.Duplicate(pPath.Child("name"), name))
		}
		names[name] = true
		if p.Protocol == nil {
			errs = append(errs, field.Required(pPath.Child("protocol"), ""))
		} else {
			errs = append(errs, validateEnum(*p.Protocol, pPath.Child("protocol"), corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP)...)
		}
		if p.Port != nil {
			errs = append(errs, validatePortNumber(*p.Port, pPath.Child("port"))...)
		}
		if p.AppProtocol != nil {
			for _, msg := range validation.IsQualifiedName(*p.AppProtocol) {
				errs = append(errs, field.Invalid(pPath.Child("appProtocol"), *p.AppProtocol, msg))
			}
		}
	}
	return errs
}

func endpointSlicesTable() *Table {
	doc := discoveryv1.EndpointSlice{}.SwaggerDoc()
	return &Table{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			tableColumn("AddressType", "string", doc["addressType"], 0),
			tableColumn("Ports", "string", doc["ports"], 0),
			tableColumn("Endpoints", "string", doc["endpoints"], 0),
			ageColumn(),
		},
		Row: tableRow(func(s *discoveryv1.EndpointSlice) []any {
			var ports, addrs []string
			for _, p := range s.Ports {
				switch {
				case p.Port != nil:
					ports = append(ports, strconv.Itoa(int(*p.Port)))
				case p.Name != nil:
					ports = append(ports, *p.Name)
				default:
					ports = append(ports, "*")
				}
			}
			for _, ep := range s.Endpoints {
				addrs = append(addrs, ep.Addresses...)
			}
			return []any{s.Name, string(s.AddressType), firstThree(ports), firstThree(addrs), formatAge(s.CreationTimestamp)}
		}),
	}
}

// firstThree lists up to three values, then "+ N more...", or "<unset>".
func firstThree(values []string) string {
	const max = 3
	if len(values) == 0 {
		return "<unset>"
	}
	if len(values) <= max {
		return strings.Join(values, ",")
	}
	return fmt.Sprintf("%s + %d more...", strings.Join(values[:max], ","), len(values)-max)
}
