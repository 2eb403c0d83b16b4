package apiserver

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"
)

// admitCreate runs the create-time steps that need the server's state
// rather than the object alone: RBAC's escalation check, a pod's service
// account and API access volume, the default StorageClass of a claim, and
// a Service's cluster IP and NodePorts. release undoes any allocation if
// the object is not stored (and always after a dry run).
func (s *Server) admitCreate(ctx context.Context, r *resource, obj runtime.Object, _ bool) (release func(), err error) {
	if err := s.admitRBACWrite(ctx, r, obj); err != nil {
		return func() {}, err
	}
	if err := s.admitPodServiceAccount(ctx, r, obj); err != nil {
		return func() {}, err
	}
	if err := s.defaultStorageClass(ctx, r, obj); err != nil {
		return func() {}, err
	}
	return s.admitServiceCreate(r, obj)
}

// admitUpdate runs the update-time steps that need the server's state:
// RBAC's escalation check and a Service's allocations.
func (s *Server) admitUpdate(ctx context.Context, r *resource, obj, old runtime.Object, dryRun bool) error {
	if err := s.admitRBACWrite(ctx, r, obj); err != nil {
		return err
	}
	return s.admitServiceUpdate(r, obj, old, dryRun)
}
