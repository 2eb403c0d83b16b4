package registry

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// maxClientIPAffinitySeconds is the longest ClientIP session affinity
// (one day).
const maxClientIPAffinitySeconds = 86400

func servicesResource() *Resource {
	return &Resource{
		Version: "v1", Name: "services", Singular: "service", Kind: "Service",
		ShortNames: []string{"svc"}, Categories: []string{"all"}, Namespaced: true,
		New:          func() runtime.Object { return &corev1.Service{} },
		NewList:      func() runtime.Object { return &corev1.ServiceList{} },
		Status:       true,
		NoGeneration: true,
		ValidateName: apivalidation.NameIsDNS1035Label,

		Default:              typedMutate(defaultService),
		PrepareForCreate:     typedMutate(prepareServiceForCreate),
		PrepareForUpdate:     typedMutateUpdate(prepareServiceForUpdate),
		Validate:             typedValidate(validateService),
		ValidateUpdate:       typedValidateUpdate(validateServiceUpdate),
		ValidateStatusUpdate: typedValidateUpdate(validateServiceStatusUpdate),
		Fields:               typedFields(serviceFields),
		Table:                serviceTable(),
	}
}

func defaultService(svc *corev1.Service) {
	spec := &svc.Spec
	if spec.SessionAffinity == "" {
		spec.SessionAffinity = corev1.ServiceAffinityNone
	}
	switch spec.SessionAffinity {
	case corev1.ServiceAffinityNone:
		spec.SessionAffinityConfig = nil
	case corev1.ServiceAffinityClientIP:
		if c := spec.SessionAffinityConfig; c == nil || c.ClientIP == nil || c.ClientIP.TimeoutSeconds == nil {
			timeout := corev1.DefaultClientIPServiceAffinitySeconds
			spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: &timeout}}
		}
	}
	if spec.Type == "" {
		spec.Type = corev1.ServiceTypeClusterIP
	}
	for i := range spec.Ports {
		p := &spec.Ports[i]
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		if p.TargetPort == intstr.FromInt32(0) || p.TargetPort == intstr.FromString("") {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
	}
	external := spec.Type == corev1.ServiceTypeNodePort || spec.Type == corev1.ServiceTypeLoadBalancer
	if external && spec.ExternalTrafficPolicy == "" {
		spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	}
	if spec.InternalTrafficPolicy == nil && spec.Type != corev1.ServiceTypeExternalName {
		policy := corev1.ServiceInternalTrafficPolicyCluster
		spec.InternalTrafficPolicy = &policy
	}
	if spec.Type == corev1.ServiceTypeLoadBalancer && spec.AllocateLoadBalancerNodePorts == nil {
		allocate := true
		spec.AllocateLoadBalancerNodePorts = &allocate
	}
	// clusterIP and clusterIPs[0] are the same address.
	if spec.ClusterIP == "" && len(spec.ClusterIPs) > 0 {
		spec.ClusterIP = spec.ClusterIPs[0]
	}
	if spec.ClusterIP != "" && len(spec.ClusterIPs) == 0 {
		spec.ClusterIPs = []string{spec.ClusterIP}
	}
	for i := range svc.Status.LoadBalancer.Ingress {
		in := &svc.Status.LoadBalancer.Ingress[i]
		if in.IP != "" && in.IPMode == nil {
			mode := corev1.LoadBalancerIPModeVIP
			in.IPMode = &mode
		}
	}
}

// prepareServiceForCreate clears the status and picks the IP families:
// tug's service network is IPv4. Allocation of the cluster IP and node
// ports is the API server's.
func prepareServiceForCreate(svc *corev1.Service) {
	svc.Status = corev1.ServiceStatus{}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return
	}
	if svc.Spec.IPFamilyPolicy == nil {
		policy := corev1.IPFamilyPolicySingleStack
		if svc.Spec.ClusterIP == corev1.ClusterIPNone && len(svc.Spec.Selector) == 0 {
			policy = corev1.IPFamilyPolicyRequireDualStack
		}
		svc.Spec.IPFamilyPolicy = &policy
	}
	if len(svc.Spec.IPFamilies) == 0 {
		svc.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
	}
}

// prepareServiceForUpdate keeps what the server allocated when a client
// sends the service again without it (as `kubectl apply` does), and
// drops it when the type no longer uses it.
func prepareServiceForUpdate(svc, old *corev1.Service) {
	spec, oldSpec := &svc.Spec, &old.Spec
	toExternalName := spec.Type == corev1.ServiceTypeExternalName && oldSpec.Type != corev1.ServiceTypeExternalName
	if toExternalName {
		if spec.ClusterIP == oldSpec.ClusterIP {
			spec.ClusterIP, spec.ClusterIPs = "", nil
		}
		spec.IPFamilies, spec.IPFamilyPolicy = nil, nil
	} else if spec.Type != corev1.ServiceTypeExternalName {
		if spec.ClusterIP == "" && len(spec.ClusterIPs) == 0 {
			spec.ClusterIP, spec.ClusterIPs = oldSpec.ClusterIP, oldSpec.ClusterIPs
		}
		if spec.IPFamilyPolicy == nil {
			spec.IPFamilyPolicy = oldSpec.IPFamilyPolicy
		}
		if len(spec.IPFamilies) == 0 {
			spec.IPFamilies = oldSpec.IPFamilies
		}
	}
	usesNodePorts := spec.Type == corev1.ServiceTypeNodePort ||
		(spec.Type == corev1.ServiceTypeLoadBalancer && (spec.AllocateLoadBalancerNodePorts == nil || *spec.AllocateLoadBalancerNodePorts))
	for i := range spec.Ports {
		p := &spec.Ports[i]
		if p.NodePort != 0 || !usesNodePorts {
			continue
		}
		for _, op := range oldSpec.Ports {
			if op.Port == p.Port && op.Protocol == p.Protocol {
				p.NodePort = op.NodePort
			}
		}
	}
	if !usesNodePorts && spec.Type != oldSpec.Type {
		for i := range spec.Ports {
			spec.Ports[i].NodePort = 0
		}
	}
	if !usesNodePorts && spec.Type != corev1.ServiceTypeLoadBalancer && spec.ExternalTrafficPolicy == oldSpec.ExternalTrafficPolicy {
		spec.ExternalTrafficPolicy = ""
	}
	if spec.HealthCheckNodePort == 0 && spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal &&
		spec.Type == corev1.ServiceTypeLoadBalancer {
		spec.HealthCheckNodePort = oldSpec.HealthCheckNodePort
	}
}

func isHeadlessService(svc *corev1.Service) bool {
	return svc.Spec.ClusterIP == corev1.ClusterIPNone
}

func validateService(svc *corev1.Service) field.ErrorList {
	specPath := field.NewPath("spec")
	spec := &svc.Spec
	errs := validateEnum(spec.Type, specPath.Child("type"),
		corev1.ServiceTypeClusterIP, corev1.ServiceTypeExternalName, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeNodePort)

	if len(spec.Ports) == 0 && !isHeadlessService(svc) && spec.Type != corev1.ServiceTypeExternalName {
		errs = append(errs, field.Required(specPath.Child("ports"), ""))
	}
	errs = append(errs, validateServicePorts(svc, specPath.Child("ports"))...)
	errs = append(errs, validateServiceClusterIP(svc, specPath)...)

	if spec.Type == corev1.ServiceTypeExternalName {
		name := strings.TrimSuffix(spec.ExternalName, ".")
		if name == "" {
			errs = append(errs, field.Required(specPath.Child("externalName"), ""))
		} else {
			for _, msg := range validation.IsDNS1123Subdomain(name) {
				errs = append(errs, field.Invalid(specPath.Child("externalName"), spec.ExternalName, msg))
			}
		}
	}
	errs = append(errs, validateEnum(spec.SessionAffinity, specPath.Child("sessionAffinity"),
		corev1.ServiceAffinityClientIP, corev1.ServiceAffinityNone)...)
	if c := spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
		if t := *c.ClientIP.TimeoutSeconds; t <= 0 || t > maxClientIPAffinitySeconds {
			errs = append(errs, field.Invalid(specPath.Child("sessionAffinityConfig", "clientIP", "timeoutSeconds"), t,
				fmt.Sprintf("must be greater than 0 and less than %d", maxClientIPAffinitySeconds)))
		}
	}
	if spec.ExternalTrafficPolicy != "" {
		if spec.Type != corev1.ServiceTypeNodePort && spec.Type != corev1.ServiceTypeLoadBalancer {
			errs = append(errs, field.Invalid(specPath.Child("externalTrafficPolicy"), spec.ExternalTrafficPolicy,
				"may only be set when `type` is 'NodePort' or 'LoadBalancer'"))
		} else {
			errs = append(errs, validateEnum(spec.ExternalTrafficPolicy, specPath.Child("externalTrafficPolicy"),
				corev1.ServiceExternalTrafficPolicyCluster, corev1.ServiceExternalTrafficPolicyLocal)...)
		}
	}
	if spec.InternalTrafficPolicy != nil {
		errs = append(errs, validateEnum(*spec.InternalTrafficPolicy, specPath.Child("internalTrafficPolicy"),
			corev1.ServiceInternalTrafficPolicyCluster, corev1.ServiceInternalTrafficPolicyLocal)...)
	}
	errs = append(errs, validateLabelSelectorMap(spec.Selector, specPath.Child("selector"))...)
	for i, ip := range spec.ExternalIPs {
		errs = append(errs, validation.IsValidIP(specPath.Child("externalIPs").Index(i), ip)...)
	}
	if spec.HealthCheckNodePort != 0 {
		errs = append(errs, validatePortNumber(spec.HealthCheckNodePort, specPath.Child("healthCheckNodePort"))...)
	}
	return errs
}

func validateServiceClusterIP(svc *corev1.Service, specPath *field.Path) field.ErrorList {
	spec := &svc.Spec
	var errs field.ErrorList
	if spec.Type == corev1.ServiceTypeExternalName {
		if spec.ClusterIP != "" {
			errs = append(errs, field.Forbidden(specPath.Child("clusterIP"), "may not be set for ExternalName services"))
		}
		return errs
	}
	if len(spec.ClusterIPs) > 0 && spec.ClusterIP != spec.ClusterIPs[0] {
		errs = append(errs, field.Invalid(specPath.Child("clusterIPs").Index(0), spec.ClusterIPs[0], "must match `clusterIP` when set"))
	}
	if len(spec.ClusterIPs) > 2 {
		errs = append(errs, field.Invalid(specPath.Child("clusterIPs"), spec.ClusterIPs, "may only hold up to 2 values"))
	}
	for i, ip := range spec.ClusterIPs {
		p := specPath.Child("clusterIPs").Index(i)
		switch {
		case ip == corev1.ClusterIPNone && i == 0:
			if spec.Type == corev1.ServiceTypeNodePort || spec.Type == corev1.ServiceTypeLoadBalancer {
				errs = append(errs, field.Invalid(p, ip, fmt.Sprintf("may not be set to 'None' for %s services", spec.Type)))
			}
		default:
			errs = append(errs, validation.IsValidIP(p, ip)...)
		}
	}
	if spec.IPFamilyPolicy != nil {
		errs = append(errs, validateEnum(*spec.IPFamilyPolicy, specPath.Child("ipFamilyPolicy"),
			corev1.IPFamilyPolicyPreferDualStack, corev1.IPFamilyPolicyRequireDualStack, corev1.IPFamilyPolicySingleStack)...)
	}
	for i, fam := range spec.IPFamilies {
		errs = append(errs, validateEnum(fam, specPath.Child("ipFamilies").Index(i), corev1.IPv4Protocol, corev1.IPv6Protocol)...)
	}
	return errs
}

func validateServicePorts(svc *corev1.Service, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	seen := sets.New[string]()
	for i, port := range svc.Spec.Ports {
		pp := p.Index(i)
		if port.Name == "" {
			if len(svc.Spec.Ports) > 1 {
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
		errs = append(errs, validateNamedPort(port.TargetPort, pp.Child("targetPort"))...)
		if port.NodePort != 0 {
			errs = append(errs, validatePortNumber(port.NodePort, pp.Child("nodePort"))...)
			if svc.Spec.Type == corev1.ServiceTypeClusterIP || svc.Spec.Type == corev1.ServiceTypeExternalName {
				errs = append(errs, field.Forbidden(pp.Child("nodePort"), fmt.Sprintf("may not be used when `type` is '%s'", svc.Spec.Type)))
			}
		}
		key := fmt.Sprintf("%d/%s", port.Port, port.Protocol)
		if seen.Has(key) {
			errs = append(errs, field.Duplicate(pp, key))
		}
		seen.Insert(key)
	}
	return errs
}

func validateServiceUpdate(svc, old *corev1.Service) field.ErrorList {
	errs := validateService(svc)
	specPath := field.NewPath("spec")
	if svc.Spec.Type != corev1.ServiceTypeExternalName && old.Spec.Type != corev1.ServiceTypeExternalName && old.Spec.ClusterIP != "" {
		errs = append(errs, validateImmutable(svc.Spec.ClusterIP, old.Spec.ClusterIP, specPath.Child("clusterIP"))...)
	}
	return errs
}

func validateServiceStatusUpdate(svc, _ *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("status", "loadBalancer", "ingress")
	for i, in := range svc.Status.LoadBalancer.Ingress {
		if in.IP != "" {
			errs = append(errs, validation.IsValidIP(p.Index(i).Child("ip"), in.IP)...)
		}
		if in.Hostname != "" {
			errs = append(errs, validateDNSSubdomainField(in.Hostname, p.Index(i).Child("hostname"))...)
		}
	}
	return errs
}

func serviceFields(svc *corev1.Service) fields.Set {
	return fields.Set{"spec.clusterIP": svc.Spec.ClusterIP, "spec.type": string(svc.Spec.Type)}
}
