package apiserver

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func isServices(r *resource) bool { return r.Group == "" && r.Name == "services" }

func needsClusterIP(svc *corev1.Service) bool {
	return svc.Spec.Type != corev1.ServiceTypeExternalName && svc.Spec.ClusterIP != corev1.ClusterIPNone
}

func needsNodePorts(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer
}

// admitServiceCreate allocates a new Service's addresses and ports.
// release undoes it if the object is not stored.
func (s *Server) admitServiceCreate(r *resource, obj runtime.Object) (release func(), err error) {
	svc, ok := obj.(*corev1.Service)
	if !ok || !isServices(r) {
		return func() {}, nil
	}
	owner := svc.Namespace + "/" + svc.Name
	var undo []func()
	release = func() {
		for _, u := range undo {
			u()
		}
	}
	fail := func(err error) (func(), error) {
		release()
		return func() {}, err
	}
	if needsClusterIP(svc) {
		ip, err := s.claimClusterIP(svc, owner)
		if err != nil {
			return fail(err)
		}
		undo = append(undo, func() { s.services.releaseIP(ip, owner) })
	}
	if needsNodePorts(svc) {
		ports, err := s.claimNodePorts(svc, nil, owner)
		if err != nil {
			return fail(err)
		}
		for _, p := range ports {
			undo = append(undo, func() { s.services.releasePort(p, owner) })
		}
	}
	return release, nil
}

func (s *Server) claimClusterIP(svc *corev1.Service, owner string) (netip.Addr, error) {
	path := field.NewPath("spec", "clusterIPs")
	if svc.Spec.ClusterIP == "" {
		ip, err := s.services.allocateIP(owner)
		if err != nil {
			return ip, apierrors.NewInternalError(err)
		}
		svc.Spec.ClusterIP = ip.String()
		svc.Spec.ClusterIPs = []string{ip.String()}
		return ip, nil
	}
	ip, err := netip.ParseAddr(svc.Spec.ClusterIP)
	if err != nil {
		return ip, apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Service").GroupKind(), svc.Name,
			field.ErrorList{field.Invalid(path.Index(0), svc.Spec.ClusterIP, "must be a valid IP address")})
	}
	if err := s.services.reserveIP(ip, owner); err != nil {
		return ip, apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Service").GroupKind(), svc.Name,
			field.ErrorList{field.Invalid(path, []string{svc.Spec.ClusterIP}, "failed to allocate IP "+ip.String()+": "+err.Error())})
	}
	if len(svc.Spec.ClusterIPs) == 0 {
		svc.Spec.ClusterIPs = []string{ip.String()}
	}
	return ip, nil
}

// claimNodePorts gives every port a NodePort: the one asked for, the one
// it had before (old), or a free one.
func (s *Server) claimNodePorts(svc *corev1.Service, old *corev1.Service, owner string) ([]int32, error) {
	var claimed []int32
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if p.NodePort == 0 && old != nil {
			for _, op := range old.Spec.Ports {
				if op.Port == p.Port && op.Protocol == p.Protocol && op.NodePort != 0 {
					p.NodePort = op.NodePort
				}
			}
		}
		var err error
		if p.NodePort == 0 {
			p.NodePort, err = s.services.allocatePort(owner)
		} else {
			err = s.services.reservePort(p.NodePort, owner)
		}
		if err != nil {
			for _, c := range claimed {
				s.services.releasePort(c, owner)
			}
			return nil, apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Service").GroupKind(), svc.Name,
				field.ErrorList{field.Invalid(field.NewPath("spec", "ports").Index(i).Child("nodePort"), p.NodePort, err.Error())})
		}
		claimed = append(claimed, p.NodePort)
	}
	return claimed, nil
}

// admitServiceUpdate keeps Service allocations in step with a Service update.
func (s *Server) admitServiceUpdate(r *resource, obj, old runtime.Object, dryRun bool) error {
	svc, ok := obj.(*corev1.Service)
	if !ok || !isServices(r) {
		return nil
	}
	oldSvc := old.(*corev1.Service)
	owner := svc.Namespace + "/" + svc.Name
	if needsClusterIP(svc) && svc.Spec.ClusterIP == "" {
		svc.Spec.ClusterIP, svc.Spec.ClusterIPs = oldSvc.Spec.ClusterIP, oldSvc.Spec.ClusterIPs
		if svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone {
			svc.Spec.ClusterIP, svc.Spec.ClusterIPs = "", nil
			if _, err := s.claimClusterIP(svc, owner); err != nil {
				return err
			}
		}
	}
	if !needsNodePorts(svc) {
		for i := range svc.Spec.Ports {
			svc.Spec.Ports[i].NodePort = 0
		}
		return nil
	}
	_, err := s.claimNodePorts(svc, oldSvc, owner)
	return err
}

// afterDelete returns a deleted object's allocations.
func (s *Server) afterDelete(r *resource, obj runtime.Object) {
	svc, ok := obj.(*corev1.Service)
	if !ok || !isServices(r) {
		return
	}
	s.releaseService(svc)
}

func (s *Server) releaseService(svc *corev1.Service) {
	owner := svc.Namespace + "/" + svc.Name
	if ip, err := netip.ParseAddr(svc.Spec.ClusterIP); err == nil {
		s.services.releaseIP(ip, owner)
	}
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			s.services.releasePort(p.NodePort, owner)
		}
	}
}

// recordService marks an existing Service's allocations as taken.
func (s *Server) recordService(svc *corev1.Service) {
	owner := svc.Namespace + "/" + svc.Name
	if ip, err := netip.ParseAddr(svc.Spec.ClusterIP); err == nil {
		_ = s.services.reserveIP(ip, owner)
	}
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			_ = s.services.reservePort(p.NodePort, owner)
		}
	}
}
