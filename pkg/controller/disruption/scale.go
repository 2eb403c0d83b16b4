package disruption

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// scale is the controller a pod belongs to for a budget and its
// spec.replicas.
type scale struct {
	uid      types.UID
	replicas int32
}

// scaleFinder resolves a pod's controller ownerReference to a scale; ok
// is false when ref is not of the finder's kind or names a gone object.
type scaleFinder func(namespace string, ref *metav1.OwnerReference) (s scale, ok bool, err error)

// scaleOf returns the scale of the controller of pod. ok is false for an
// unmanaged pod; a controller that none of the known kinds resolves is an
// error.
func (dc *Controller) scaleOf(pod *corev1.Pod) (s scale, ok bool, err error) {
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil {
		return scale{}, false, nil
	}
	for _, find := range []scaleFinder{dc.deploymentScale, dc.replicaSetScale, dc.statefulSetScale} {
		s, ok, err := find(pod.Namespace, ref)
		if err != nil || ok {
			return s, ok, err
		}
	}
	return scale{}, false, fmt.Errorf("found no controllers for pod %q", pod.Name)
}

// isApps reports whether ref names a kind of the apps API group.
func isApps(ref *metav1.OwnerReference, kind string) bool {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	return err == nil && gv.Group == "apps" && ref.Kind == kind
}

// sameObject reports whether a lister read found the object ref names
// (same UID); a missing object is not an error.
func sameObject(obj metav1.Object, err error, ref *metav1.OwnerReference) (bool, error) {
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("get %s %s: %w", ref.Kind, ref.Name, err)
	}
	return obj.GetUID() == ref.UID, nil
}

// deploymentScale resolves a pod of a ReplicaSet that a Deployment
// controls to the Deployment.
func (dc *Controller) deploymentScale(ns string, ref *metav1.OwnerReference) (scale, bool, error) {
	if !isApps(ref, "ReplicaSet") {
		return scale{}, false, nil
	}
	rs, err := dc.replicaSets.ReplicaSets(ns).Get(ref.Name)
	if ok, err := sameObject(rs, err, ref); !ok {
		return scale{}, false, err
	}
	depRef := metav1.GetControllerOfNoCopy(rs)
	if depRef == nil || !isApps(depRef, "Deployment") {
		return scale{}, false, nil
	}
	d, err := dc.deployments.Deployments(ns).Get(depRef.Name)
	if ok, err := sameObject(d, err, depRef); !ok {
		return scale{}, false, err
	}
	return scale{d.UID, replicasOf(d.Spec.Replicas)}, true, nil
}

// replicaSetScale resolves a pod to its ReplicaSet unless a Deployment
// controls that ReplicaSet (deploymentScale counts those).
func (dc *Controller) replicaSetScale(ns string, ref *metav1.OwnerReference) (scale, bool, error) {
	if !isApps(ref, "ReplicaSet") {
		return scale{}, false, nil
	}
	rs, err := dc.replicaSets.ReplicaSets(ns).Get(ref.Name)
	if ok, err := sameObject(rs, err, ref); !ok {
		return scale{}, false, err
	}
	if depRef := metav1.GetControllerOfNoCopy(rs); depRef != nil && isApps(depRef, "Deployment") {
		return scale{}, false, nil
	}
	return scale{rs.UID, replicasOf(rs.Spec.Replicas)}, true, nil
}

// statefulSetScale resolves a pod to its StatefulSet.
func (dc *Controller) statefulSetScale(ns string, ref *metav1.OwnerReference) (scale, bool, error) {
	if !isApps(ref, "StatefulSet") {
		return scale{}, false, nil
	}
	ss, err := dc.statefulSets.StatefulSets(ns).Get(ref.Name)
	if ok, err := sameObject(ss, err, ref); !ok {
		return scale{}, false, err
	}
	return scale{ss.UID, replicasOf(ss.Spec.Replicas)}, true, nil
}
