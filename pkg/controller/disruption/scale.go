package disruption

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugcluster/tug/pkg/controller"
)

// scale is the controller a pod belongs to for a budget and its
// spec.replicas.
type scale struct {
	uid      types.UID
	replicas int32
}

// scaleOf returns the scale of the controller of pod, as Kubernetes'
// disruption controller finds it: the Deployment of a ReplicaSet that one
// controls, else the ReplicaSet, or the StatefulSet. ok is false for an
// unmanaged pod; a controller none of these resolves is an error.
func (dc *Controller) scaleOf(pod *corev1.Pod) (s scale, ok bool, err error) {
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil {
		return scale{}, false, nil
	}
	ns := pod.Namespace
	if rs := controller.ResolveControllerRef(ref, "ReplicaSet", dc.replicaSets.ReplicaSets(ns).Get); rs != nil {
		depRef := metav1.GetControllerOfNoCopy(rs)
		if depRef == nil || depRef.Kind != "Deployment" {
			return scale{rs.UID, replicasOf(rs.Spec.Replicas)}, true, nil
		}
		if d := controller.ResolveControllerRef(depRef, "Deployment", dc.deployments.Deployments(ns).Get); d != nil {
			return scale{d.UID, replicasOf(d.Spec.Replicas)}, true, nil
		}
	} else if ss := controller.ResolveControllerRef(ref, "StatefulSet", dc.statefulSets.StatefulSets(ns).Get); ss != nil {
		return scale{ss.UID, replicasOf(ss.Spec.Replicas)}, true, nil
	}
	return scale{}, false, fmt.Errorf("found no controllers for pod %q", pod.Name)
}
