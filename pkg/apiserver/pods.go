package apiserver

import (
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tugcluster/tug/pkg/storage"
)

// rawUpdate changes the stored object with fn and no update rules; for
// subresources whose whole semantics fn implements (binding).
func (s *Server) rawUpdate(req *request, dryRun bool, fn storage.UpdateFunc) (runtime.Object, error) {
	key := req.res.key(req.info.Namespace, req.info.Name)
	current := req.res.New()
	if dryRun {
		if err := req.res.store.Get(req.Context(), key, storage.GetOptions{}, current); err != nil {
			return nil, err
		}
		return fn(current)
	}
	if err := req.res.store.GuaranteedUpdate(req.Context(), key, current, nil, fn); err != nil {
		return nil, err
	}
	return current, nil
}

func podNodeName(obj runtime.Object) string {
	if p, ok := obj.(*corev1.Pod); ok {
		return p.Spec.NodeName
	}
	return ""
}

// bindPod serves pods/binding: it assigns a pod to a node once.
func (s *Server) bindPod(req *request) error {
	o, err := parseWriteOptions(req)
	if err != nil {
		return err
	}
	body, err := readBody(req.Request)
	if err != nil {
		return err
	}
	res, err := s.codecs.decode(req.Header.Get("Content-Type"), body, corev1.SchemeGroupVersion.WithKind("Binding"), &corev1.Binding{})
	if err != nil {
		return err
	}
	b, ok := res.obj.(*corev1.Binding)
	if !ok {
		return apierrors.NewBadRequest("expected a Binding object")
	}
	if b.Name == "" {
		b.Name = req.info.Name
	}
	if b.Name != req.info.Name {
		return apierrors.NewBadRequest(fmt.Sprintf("the name of the binding (%s) does not match the pod (%s)", b.Name, req.info.Name))
	}
	if b.Target.Name == "" {
		return apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Binding").GroupKind(), b.Name,
			field.ErrorList{field.Required(field.NewPath("target", "name"), "")})
	}
	if b.Target.Kind != "" && b.Target.Kind != "Node" {
		return apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Binding").GroupKind(), b.Name,
			field.ErrorList{field.NotSupported(field.NewPath("target", "kind"), b.Target.Kind, []string{"Node", "<empty>"})})
	}
	_, err = s.rawUpdate(req, o.dryRun,
		func(current runtime.Object) (runtime.Object, error) {
			pod := current.DeepCopyObject().(*corev1.Pod)
			if pod.DeletionTimestamp != nil {
				return nil, apierrors.NewConflict(req.res.GroupResource(), pod.Name, fmt.Errorf("pod %s is being deleted, cannot be assigned to a host", pod.Name))
			}
			if pod.Spec.NodeName != "" {
				return nil, apierrors.NewConflict(req.res.GroupResource(), pod.Name,
					fmt.Errorf("pod %s is already assigned to node %q", pod.Name, pod.Spec.NodeName))
			}
			if b.UID != "" && b.UID != pod.UID {
				return nil, apierrors.NewConflict(req.res.GroupResource(), pod.Name, fmt.Errorf("the UID of the binding does not match the pod"))
			}
			pod.Spec.NodeName = b.Target.Name
			for k, v := range b.Annotations {
				if pod.Annotations == nil {
					pod.Annotations = map[string]string{}
				}
				pod.Annotations[k] = v
			}
			setPodScheduled(pod)
			return pod, nil
		})
	if err != nil {
		return err
	}
	s.writeJSON(req.w, http.StatusCreated, &metav1.Status{Status: metav1.StatusSuccess, Code: http.StatusCreated})
	return nil
}

// setPodScheduled records PodScheduled=True, as binding does in Kubernetes.
func setPodScheduled(pod *corev1.Pod) {
	now := metav1.Now()
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.PodScheduled {
			pod.Status.Conditions[i].Status = corev1.ConditionTrue
			pod.Status.Conditions[i].Reason, pod.Status.Conditions[i].Message = "", ""
			pod.Status.Conditions[i].LastTransitionTime = now
			return
		}
	}
	pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{
		Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now})
}

func fieldErrors(path string, value any, msg string) field.ErrorList {
	return field.ErrorList{field.Invalid(field.NewPath(path), value, msg)}
}
