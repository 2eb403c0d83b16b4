package apiserver

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

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
	return s.ensureKubernetesService(ctx)
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
	ep := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default"},
		Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: s.cfg.AdvertiseAddress.String()}},
			Ports:     []corev1.EndpointPort{{Name: "https", Port: port, Protocol: corev1.ProtocolTCP}},
		}},
	}
	return s.ensure(ctx, s.lookup("", "v1", "endpoints"), ep)
}
