package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugcluster/tug/pkg/controller/disruption/budget"
	"github.com/tugcluster/tug/pkg/controller/replicaset"
	"github.com/tugcluster/tug/pkg/storage"
)

// evictionAttempts bounds the re-reads of a pod that changed between the
// eviction's checks and its deletion.
const evictionAttempts = 5

var pdbResource = schema.GroupResource{Group: "policy", Resource: "poddisruptionbudget"}

// evictPod serves pods/eviction: a delete that respects disruption
// budgets. Pods that are pending, finished or already terminating go at
// once; a running pod matched by one budget goes when the budget allows a
// disruption, which the eviction spends (status.disruptionsAllowed
// decremented, the pod recorded in status.disruptedPods) before deleting.
// An unready pod spends nothing when the budget's unhealthyPodEvictionPolicy
// lets it go.
func (s *Server) evictPod(req *request) error {
	ev, opts, err := s.decodeEviction(req)
	if err != nil {
		return err
	}
	clientRV := opts.Preconditions != nil && opts.Preconditions.ResourceVersion != nil
	var pod *corev1.Pod
	for attempt := 1; ; attempt++ {
		pod = &corev1.Pod{}
		if err := req.res.store.Get(req.Context(), req.res.key(req.info.Namespace, ev.Name), storage.GetOptions{}, pod); err != nil {
			return err
		}
		if !budgetsIgnored(pod) {
			break
		}
		del := opts
		if !podDone(pod) && !clientRV {
			del = withResourceVersion(opts, pod.ResourceVersion)
		}
		err := s.markAndDelete(req, pod, del)
		if err == nil {
			return s.evicted(req)
		}
		if clientRV || !apierrors.IsConflict(err) || attempt == evictionAttempts {
			return err
		}
	}
	pdbs, err := s.guardingBudgets(req.Context(), pod)
	if err != nil {
		return err
	}
	if len(pdbs) > 1 {
		s.writeJSON(req.w, http.StatusInternalServerError, &metav1.Status{
			Status: metav1.StatusFailure, Code: http.StatusInternalServerError,
			Message: "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
		})
		return nil
	}
	pinned := false // deletion must see the pod as the budget check saw it
	if len(pdbs) == 1 {
		pdb := &pdbs[0]
		if unhealthyMayGo(pdb, pod) {
			pinned = true
		} else if err := s.spendDisruption(req.Context(), pdb, pod.Name, len(opts.DryRun) > 0); err != nil {
			return err
		}
	}
	del := opts
	if pinned && !clientRV {
		del = withResourceVersion(opts, pod.ResourceVersion)
	}
	if err := s.markAndDelete(req, pod, del); err != nil {
		if pinned && !clientRV && apierrors.IsConflict(err) {
			return budgetProcessing(pdbs[0].Name)
		}
		return err
	}
	return s.evicted(req)
}

// decodeEviction reads the Eviction and the DeleteOptions it carries,
// with the request's dryRun folded in.
func (s *Server) decodeEviction(req *request) (*policyv1.Eviction, *metav1.DeleteOptions, error) {
	obj, _, wo, err := s.readPosted(req, policyv1.SchemeGroupVersion.WithKind("Eviction"), &policyv1.Eviction{})
	if err != nil {
		return nil, nil, err
	}
	ev, ok := obj.(*policyv1.Eviction)
	if !ok {
		return nil, nil, apierrors.NewBadRequest("expected an Eviction object")
	}
	if ev.Name == "" {
		ev.Name = req.info.Name
	}
	if ev.Name != req.info.Name {
		return nil, nil, apierrors.NewBadRequest("name in URL does not match name in Eviction object")
	}
	opts := &metav1.DeleteOptions{}
	if ev.DeleteOptions != nil {
		opts = ev.DeleteOptions.DeepCopy()
	}
	if err := checkDeleteOptions(opts, func(v string) error {
		return apierrors.NewBadRequest(fmt.Sprintf("Invalid value: %q for deleteOptions.dryRun: supported values: \"All\"", v))
	}); err != nil {
		return nil, nil, err
	}
	if wo.dryRun && len(opts.DryRun) == 0 {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	return ev, opts, nil
}

func (s *Server) evicted(req *request) error {
	s.writeJSON(req.w, http.StatusCreated, &metav1.Status{Status: metav1.StatusSuccess, Code: http.StatusCreated})
	return nil
}

// budgetsIgnored: a pod that is not running yet, has finished or is
// already terminating disrupts nothing more by going.
func budgetsIgnored(pod *corev1.Pod) bool {
	switch pod.Status.Phase {
	case corev1.PodPending, corev1.PodSucceeded, corev1.PodFailed:
		return true
	}
	return pod.DeletionTimestamp != nil
}

// podDone: deleting a finished or terminating pod cannot race with it
// turning ready, so its deletion needs no resourceVersion pin.
func podDone(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed || pod.DeletionTimestamp != nil
}

// unhealthyMayGo reports whether an unready pod may be evicted without
// spending a disruption: always under AlwaysAllow, and under
// IfHealthyBudget (the default) while the budget has the healthy pods it
// wants.
func unhealthyMayGo(pdb *policyv1.PodDisruptionBudget, pod *corev1.Pod) bool {
	if replicaset.IsPodReady(pod) {
		return false
	}
	if p := pdb.Spec.UnhealthyPodEvictionPolicy; p != nil && *p == policyv1.AlwaysAllow {
		return true
	}
	return pdb.Status.CurrentHealthy >= pdb.Status.DesiredHealthy && pdb.Status.DesiredHealthy > 0
}

func withResourceVersion(opts *metav1.DeleteOptions, rv string) *metav1.DeleteOptions {
	out := opts.DeepCopy()
	if out.Preconditions == nil {
		out.Preconditions = &metav1.Preconditions{}
	}
	out.Preconditions.ResourceVersion = &rv
	return out
}

// guardingBudgets lists the budgets of the pod's namespace that guard it
// against eviction.
func (s *Server) guardingBudgets(ctx context.Context, pod *corev1.Pod) ([]policyv1.PodDisruptionBudget, error) {
	r := s.lookup("policy", "v1", "poddisruptionbudgets")
	list := &policyv1.PodDisruptionBudgetList{}
	if err := r.store.GetList(ctx, r.listKey(pod.Namespace), storage.ListOptions{ResourceVersion: "0", Recursive: true}, list); err != nil {
		return nil, fmt.Errorf("list disruption budgets: %w", err)
	}
	var out []policyv1.PodDisruptionBudget
	for _, pdb := range list.Items {
		if budget.Guards(&pdb, pod) {
			out = append(out, pdb)
		}
	}
	return out, nil
}

// spendDisruption checks that pdb allows one more disruption and, unless
// dryRun, records it in one status write: disruptionsAllowed decremented
// and the pod added to disruptedPods, so the controller counts the pod
// as gone until it is (or until budget.DeletionTimeout passes). The check
// runs again on the stored budget whenever a concurrent write intervenes.
func (s *Server) spendDisruption(ctx context.Context, pdb *policyv1.PodDisruptionBudget, podName string, dryRun bool) error {
	if dryRun {
		_, err := spend(pdb, podName, time.Now())
		return err
	}
	r := s.lookup("policy", "v1", "poddisruptionbudgets")
	uid := pdb.UID
	out := &policyv1.PodDisruptionBudget{}
	err := r.store.GuaranteedUpdate(ctx, r.key(pdb.Namespace, pdb.Name), out, &storage.Preconditions{UID: &uid},
		func(cur runtime.Object) (runtime.Object, error) {
			current, ok := cur.(*policyv1.PodDisruptionBudget)
			if !ok {
				return nil, fmt.Errorf("stored budget %s is a %T", pdb.Name, cur)
			}
			return spend(current, podName, time.Now())
		})
	if isNotFound(err) {
		return budgetProcessing(pdb.Name) // replaced or deleted meanwhile: ask the client to retry
	}
	return err
}

// spend returns a copy of pdb with one disruption spent on podName, or
// the error that refuses the eviction.
func spend(pdb *policyv1.PodDisruptionBudget, podName string, now time.Time) (*policyv1.PodDisruptionBudget, error) {
	st := &pdb.Status
	switch {
	case st.ObservedGeneration < pdb.Generation:
		return nil, budgetProcessing(pdb.Name)
	case st.DisruptionsAllowed < 0:
		return nil, apierrors.NewForbidden(pdbResource, pdb.Name, fmt.Errorf("pdb disruptions allowed is negative"))
	case len(st.DisruptedPods) > budget.MaxDisruptedPods:
		return nil, apierrors.NewForbidden(pdbResource, pdb.Name,
			fmt.Errorf("DisruptedPods map too big - too many evictions not confirmed by PDB controller"))
	case st.DisruptionsAllowed == 0:
		return nil, budgetViolation(fmt.Sprintf("The disruption budget %s needs %d healthy pods and has %d currently",
			pdb.Name, st.DesiredHealthy, st.CurrentHealthy), 0)
	}
	out := pdb.DeepCopy()
	out.Status.DisruptionsAllowed--
	if out.Status.DisruptionsAllowed == 0 {
		budget.SetDisruptionAllowed(&out.Status)
	}
	if out.Status.DisruptedPods == nil {
		out.Status.DisruptedPods = map[string]metav1.Time{}
	}
	out.Status.DisruptedPods[podName] = metav1.NewTime(now)
	return out, nil
}

// budgetProcessing refuses an eviction while the budget's status does not
// reflect its spec (or the pod changed under the check).
func budgetProcessing(name string) error {
	return budgetViolation(fmt.Sprintf("The disruption budget %s is still being processed by the server.", name), 10)
}

// budgetViolation is the 429 of a refused eviction; cause says why.
func budgetViolation(cause string, retryAfter int) error {
	err := apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", retryAfter)
	err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes,
		metav1.StatusCause{Type: policyv1.DisruptionBudgetCause, Message: cause})
	return err
}

// markAndDelete records the DisruptionTarget condition on the pod (the
// reason it is going) and deletes it with opts. A resourceVersion
// precondition in opts holds for the pod as it was before the condition
// was added.
func (s *Server) markAndDelete(req *request, pod *corev1.Pod, opts *metav1.DeleteOptions) error {
	if len(opts.DryRun) == 0 && !podDone(pod) {
		out := &corev1.Pod{}
		err := req.res.store.GuaranteedUpdate(req.Context(), req.res.key(pod.Namespace, pod.Name), out, nil,
			func(cur runtime.Object) (runtime.Object, error) {
				if err := checkDeletePreconditions(req.res, pod.Name, opts.Preconditions, cur); err != nil {
					return nil, err
				}
				p := cur.DeepCopyObject().(*corev1.Pod)
				setDisruptionTarget(p)
				return p, nil
			})
		if err != nil {
			return err
		}
		if opts.Preconditions != nil && opts.Preconditions.ResourceVersion != nil {
			opts = withResourceVersion(opts, out.ResourceVersion)
		}
	}
	_, _, err := s.deleteObject(req.Context(), req.res, pod.Namespace, pod.Name, opts)
	return err
}

// setDisruptionTarget sets DisruptionTarget=True with the eviction's
// reason, keeping the transition time when it was already True.
func setDisruptionTarget(pod *corev1.Pod) {
	want := corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
		Reason: "EvictionByEvictionAPI", Message: "Eviction API: evicting", LastTransitionTime: metav1.Now()}
	i := slices.IndexFunc(pod.Status.Conditions, func(c corev1.PodCondition) bool { return c.Type == corev1.DisruptionTarget })
	if i < 0 {
		pod.Status.Conditions = append(pod.Status.Conditions, want)
		return
	}
	if pod.Status.Conditions[i].Status == want.Status {
		want.LastTransitionTime = pod.Status.Conditions[i].LastTransitionTime
	}
	pod.Status.Conditions[i] = want
}
