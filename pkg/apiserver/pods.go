package apiserver

import (
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
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

// evictPod serves pods/eviction: a delete that respects disruption budgets.
func (s *Server) evictPod(req *request) error {
	body, err := readBody(req.Request)
	if err != nil {
		return err
	}
	res, err := s.codecs.decode(req.Header.Get("Content-Type"), body, policyv1.SchemeGroupVersion.WithKind("Eviction"), &policyv1.Eviction{})
	if err != nil {
		return err
	}
	ev, ok := res.obj.(*policyv1.Eviction)
	if !ok {
		return apierrors.NewBadRequest("expected an Eviction object")
	}
	if ev.Name != "" && ev.Name != req.info.Name {
		return apierrors.NewBadRequest(fmt.Sprintf("name in URL does not match name in Eviction object"))
	}
	pod := &corev1.Pod{}
	if err := req.res.store.Get(req.Context(), req.res.key(req.info.Namespace, req.info.Name), storage.GetOptions{}, pod); err != nil {
		return err
	}
	if pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed && pod.DeletionTimestamp == nil {
		if err := s.checkDisruptionBudgets(req, pod); err != nil {
			return err
		}
	}
	opts := ev.DeleteOptions
	if opts == nil {
		opts = &metav1.DeleteOptions{}
	}
	if _, _, err := s.deleteObject(req.Context(), req.res, pod.Namespace, pod.Name, opts); err != nil {
		return err
	}
	s.writeJSON(req.w, http.StatusCreated, &metav1.Status{Status: metav1.StatusSuccess, Code: http.StatusCreated})
	return nil
}

// checkDisruptionBudgets refuses an eviction (429) that a matching
// PodDisruptionBudget does not allow.
func (s *Server) checkDisruptionBudgets(req *request, pod *corev1.Pod) error {
	r := s.lookup("policy", "v1", "poddisruptionbudgets")
	if r == nil {
		return nil
	}
	list := &policyv1.PodDisruptionBudgetList{}
	if err := r.store.GetList(req.Context(), r.listKey(pod.Namespace), storage.ListOptions{ResourceVersion: "0", Recursive: true}, list); err != nil {
		return err
	}
	for _, pdb := range list.Items {
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		if pdb.Status.ObservedGeneration < pdb.Generation || pdb.Status.DisruptionsAllowed <= 0 {
			return tooManyRequests(fmt.Sprintf("Cannot evict pod as it would violate the pod's disruption budget %q.", pdb.Name))
		}
	}
	return nil
}

func tooManyRequests(msg string) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusTooManyRequests, Reason: metav1.StatusReasonTooManyRequests,
		Message: msg, Details: &metav1.StatusDetails{RetryAfterSeconds: 10},
	}}
}

func fieldErrors(path string, value any, msg string) field.ErrorList {
	return field.ErrorList{field.Invalid(field.NewPath(path), value, msg)}
}
