package apiserver

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/pkg/controller/rootcacert"
)

// Where pods find their service account credentials.
const (
	serviceAccountMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
	apiAccessVolumePrefix   = "kube-api-access-"
	// apiAccessTokenSeconds is the lifetime Kubernetes asks for the
	// injected token (an hour and seven seconds, so it is recognisable).
	apiAccessTokenSeconds int64 = 3607
)

// admitPodServiceAccount does what Kubernetes' ServiceAccount admission
// does for a new pod: its service account must exist (the namespace's
// "default" one may still be on its way), a pod without imagePullSecrets
// gets the account's, and unless the pod or the account turns automounting
// off, every container gets the projected kube-api-access volume (token,
// ca.crt, namespace) at serviceAccountMountPath.
func (s *Server) admitPodServiceAccount(ctx context.Context, r *resource, obj runtime.Object) error {
	pod, ok := obj.(*corev1.Pod)
	if !ok || r.Group != "" || r.Name != "pods" {
		return nil
	}
	name := pod.Spec.ServiceAccountName
	if name == "" {
		name = "default"
	}
	sa := &corev1.ServiceAccount{}
	found := s.cachedGet(ctx, "serviceaccounts", pod.Namespace, name, sa) == nil
	if !found && name != "default" {
		return apierrors.NewForbidden(r.GroupResource(), pod.Name,
			fmt.Errorf("error looking up service account %s/%s: serviceaccount %q not found", pod.Namespace, name, name))
	}
	if found && len(pod.Spec.ImagePullSecrets) == 0 {
		pod.Spec.ImagePullSecrets = append([]corev1.LocalObjectReference(nil), sa.ImagePullSecrets...)
	}
	automount := pod.Spec.AutomountServiceAccountToken
	if automount == nil && found {
		automount = sa.AutomountServiceAccountToken
	}
	if automount != nil && !*automount {
		return nil
	}
	mountAPIAccess(&pod.Spec)
	return nil
}

// mountAPIAccess adds the kube-api-access volume and mounts it read-only
// in every container that has nothing at serviceAccountMountPath yet.
func mountAPIAccess(spec *corev1.PodSpec) {
	for _, v := range spec.Volumes {
		if strings.HasPrefix(v.Name, apiAccessVolumePrefix) && v.Projected != nil {
			return // already there (a pod copied from another)
		}
	}
	name := apiAccessVolumePrefix + utilrand.String(5)
	mounted := false
	mount := func(cs []corev1.Container) {
		for i := range cs {
			if hasMountAt(cs[i].VolumeMounts, serviceAccountMountPath) {
				continue
			}
			cs[i].VolumeMounts = append(cs[i].VolumeMounts, corev1.VolumeMount{
				Name: name, MountPath: serviceAccountMountPath, ReadOnly: true})
			mounted = true
		}
	}
	mount(spec.InitContainers)
	mount(spec.Containers)
	if !mounted {
		return
	}
	spec.Volumes = append(spec.Volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
		Projected: &corev1.ProjectedVolumeSource{
			DefaultMode: ptr.To[int32](0o644),
			Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
					ExpirationSeconds: ptr.To(apiAccessTokenSeconds), Path: "token"}},
				{ConfigMap: &corev1.ConfigMapProjection{
					LocalObjectReference: corev1.LocalObjectReference{Name: rootcacert.ConfigMapName},
					Items:                []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
				{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{
					Path:     "namespace",
					FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
			},
		},
	}})
}

func hasMountAt(mounts []corev1.VolumeMount, path string) bool {
	for _, m := range mounts {
		if strings.TrimRight(m.MountPath, "/") == path {
			return true
		}
	}
	return false
}
