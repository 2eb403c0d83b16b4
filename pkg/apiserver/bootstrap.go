package apiserver

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/pkg/apiserver/rbac"
	"github.com/tugcluster/tug/pkg/storage"
)

// systemNamespaces exist in every cluster.
var systemNamespaces = []string{"default", "kube-system", "kube-public", "kube-node-lease"}

// bootstrap restores allocator state and creates the objects every
// cluster has. It is idempotent: existing objects are left alone.
func (s *Server) bootstrap(ctx context.Context) error {
	svcs := s.lookup("", "v1", "services")
	list := &corev1.ServiceList{}
	if err := svcs.store.GetList(ctx, svcs.prefix, storage.ListOptions{Recursive: true}, list); err != nil {
		return fmt.Errorf("list services: %w", err)
	}
	for i := range list.Items {
		s.recordService(&list.Items[i])
	}
	nsRes := s.lookup("", "v1", "namespaces")
	for _, name := range systemNamespaces {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if err := s.ensure(ctx, nsRes, ns); err != nil {
			return err
		}
	}
	if err := s.ensureDefaultPolicy(ctx); err != nil {
		return err
	}
	return s.ensureKubernetesService(ctx)
}

// ensureDefaultPolicy creates the default ClusterRoles and their bindings
// (cluster-admin for system:masters, discovery and self reviews for every
// authenticated caller) when they are missing, and adds to stored ones
// what the current defaults have that they lack (rules, selectors,
// subjects), never taking anything away, as Kubernetes does at start.
func (s *Server) ensureDefaultPolicy(ctx context.Context) error {
	roles := s.lookup(rbacv1.GroupName, "v1", "clusterroles")
	for _, cr := range rbac.DefaultClusterRoles() {
		err := s.ensureCurrent(ctx, roles, cr, func(cur runtime.Object) {
			stored := cur.(*rbacv1.ClusterRole)
			out, _ := rbac.ReconcileRole(stored, cr)
			*stored = *out
		})
		if err != nil {
			return err
		}
	}
	bindings := s.lookup(rbacv1.GroupName, "v1", "clusterrolebindings")
	for _, b := range rbac.DefaultClusterRoleBindings() {
		err := s.ensureCurrent(ctx, bindings, b, func(cur runtime.Object) {
			stored := cur.(*rbacv1.ClusterRoleBinding)
			out, _ := rbac.ReconcileBinding(stored, b)
			*stored = *out
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// ensure creates obj unless an object of that name exists.
func (s *Server) ensure(ctx context.Context, r *resource, obj runtime.Object) error {
	_, err := s.createObject(ctx, r, obj, false)
	var se *apierrors.StatusError
	if err == nil || (errors.As(err, &se) && apierrors.IsAlreadyExists(err)) {
		return nil
	}
	return fmt.Errorf("create %s: %w", r.GroupResource(), err)
}

// ensureKubernetesService publishes the API server as default/kubernetes.
func (s *Server) ensureKubernetesService(ctx context.Context) error {
	port := s.cfg.SecurePort
	if port == 0 {
		port = 6443
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default",
			Labels: map[string]string{"component": "apiserver", "provider": "kubernetes"}},
		Spec: corev1.ServiceSpec{
			Type:      corev1.ServiceTypeClusterIP,
			ClusterIP: s.services.firstIP().String(),
			Ports: []corev1.ServicePort{{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP,
				TargetPort: intstr.FromInt32(port)}},
		},
	}
	if err := s.ensure(ctx, s.lookup("", "v1", "services"), svc); err != nil {
		return err
	}
	if !s.cfg.AdvertiseAddress.IsValid() {
		return nil
	}
	addr := s.cfg.AdvertiseAddress.String()
	ep := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default",
			Labels: map[string]string{discoveryv1.LabelSkipMirror: "true"}},
		Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: addr}},
			Ports:     []corev1.EndpointPort{{Name: "https", Port: port, Protocol: corev1.ProtocolTCP}},
		}},
	}
	if err := s.ensureCurrent(ctx, s.lookup("", "v1", "endpoints"), ep, func(cur runtime.Object) {
		cur.(*corev1.Endpoints).Subsets = ep.Subsets
	}); err != nil {
		return err
	}
	family := discoveryv1.AddressTypeIPv4
	if s.cfg.AdvertiseAddress.Is6() {
		family = discoveryv1.AddressTypeIPv6
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default",
			Labels: map[string]string{discoveryv1.LabelServiceName: "kubernetes"}},
		AddressType: family,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{addr}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To(port), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
	return s.ensureCurrent(ctx, s.lookup("discovery.k8s.io", "v1", "endpointslices"), slice, func(cur runtime.Object) {
		c := cur.(*discoveryv1.EndpointSlice)
		c.AddressType, c.Endpoints, c.Ports = slice.AddressType, slice.Endpoints, slice.Ports
	})
}

// ensureCurrent creates obj, or, when it exists, sets on the stored object
// what obj says (set copies it): the API server's own objects follow its
// configuration (an advertise address changed across restarts). An
// unchanged object is not written.
func (s *Server) ensureCurrent(ctx context.Context, r *resource, obj runtime.Object, set func(cur runtime.Object)) error {
	if err := s.ensure(ctx, r, obj); err != nil {
		return err
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	err = r.store.GuaranteedUpdate(ctx, r.key(m.GetNamespace(), m.GetName()), r.New(), nil, func(cur runtime.Object) (runtime.Object, error) {
		set(cur)
		return cur, nil
	})
	if err != nil {
		return fmt.Errorf("update %s: %w", r.GroupResource(), err)
	}
	return nil
}
