package disruption

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/tugcluster/tug/pkg/controller"
	"github.com/tugcluster/tug/pkg/controller/disruption/budget"
)

// sync recomputes one budget's status. A budget whose status cannot be
// computed allows no disruption (SyncFailed) and is retried.
func (dc *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pdb, err := dc.budgets.PodDisruptionBudgets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get budget %s: %w", key, err)
	}
	err = dc.trySync(ctx, pdb)
	switch {
	case err == nil:
		return nil
	case apierrors.IsConflict(err):
		// The eviction subresource wrote the status meanwhile; the newer
		// budget is on its way through the watch.
		return fmt.Errorf("%w: %v", controller.ErrRequeue, err)
	}
	if ferr := dc.failSafe(ctx, pdb, err); ferr != nil {
		return errors.Join(err, ferr)
	}
	return err
}

func (dc *Controller) trySync(ctx context.Context, pdb *policyv1.PodDisruptionBudget) error {
	pods, err := dc.selectedPods(pdb)
	if err != nil {
		dc.events.Eventf(pdb, corev1.EventTypeWarning, "NoPods", "Failed to get pods: %v", err)
		return err
	}
	if len(pods) == 0 {
		dc.events.Eventf(pdb, corev1.EventTypeNormal, "NoPods", "No matching pods found")
	}
	e, err := expect(pdb, pods, dc.scaleOf)
	if err != nil {
		dc.events.Eventf(pdb, corev1.EventTypeWarning, "CalculateExpectedPodCountFailed",
			"Failed to calculate the number of expected pods: %v", err)
		return err
	}
	if len(e.unmanaged) > 0 && countsScale(pdb) {
		dc.events.Eventf(pdb, corev1.EventTypeWarning, "UnmanagedPods",
			"Pods selected by this PodDisruptionBudget (selector: %v) were found to be unmanaged. As a result, "+
				"the status of the PDB cannot be calculated correctly, which may result in undefined behavior. "+
				"To account for these pods please set \".spec.minAvailable\" field of the PDB to an integer value.",
			metav1.FormatLabelSelector(pdb.Spec.Selector))
	}
	now := dc.now()
	live, expired, recheck := liveDisruptions(pdb, pods, now)
	for _, pod := range expired {
		dc.events.Eventf(pod, corev1.EventTypeWarning, "NotDeleted",
			"Pod was expected by PDB %s/%s to be deleted but it wasn't", pdb.Namespace, pdb.Name)
	}
	status := calculateStatus(pdb, e, countHealthy(pods, live), live)
	if err := dc.writeStatus(ctx, pdb, status); err != nil {
		return err
	}
	if !recheck.IsZero() {
		dc.queue.EnqueueAfter(pdb, recheck.Sub(now))
	}
	return nil
}

// selectedPods lists the pods of the budget's namespace its selector
// matches.
func (dc *Controller) selectedPods(pdb *policyv1.PodDisruptionBudget) ([]*corev1.Pod, error) {
	sel, ok := budget.Selector(pdb)
	if !ok {
		return nil, fmt.Errorf("invalid selector %v", metav1.FormatLabelSelector(pdb.Spec.Selector))
	}
	pods, err := dc.pods.Pods(pdb.Namespace).List(sel)
	if err != nil {
		return nil, fmt.Errorf("list pods: %w", err)
	}
	return pods, nil
}

// writeStatus writes status when it differs. It does not retry a
// conflict: the status was computed from the cached budget, and a newer
// one may carry disruptions this computation has not seen.
func (dc *Controller) writeStatus(ctx context.Context, pdb *policyv1.PodDisruptionBudget, status policyv1.PodDisruptionBudgetStatus) error {
	if equality.Semantic.DeepEqual(pdb.Status, status) {
		return nil
	}
	out := pdb.DeepCopy()
	out.Status = status
	_, err := dc.client.PolicyV1().PodDisruptionBudgets(pdb.Namespace).UpdateStatus(ctx, out, metav1.UpdateOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("update status of budget %s/%s: %w", pdb.Namespace, pdb.Name, err)
	}
	return nil
}

// failSafe allows no disruption while the status cannot be computed.
func (dc *Controller) failSafe(ctx context.Context, pdb *policyv1.PodDisruptionBudget, cause error) error {
	status := *pdb.Status.DeepCopy()
	budget.SetSyncFailed(&status, cause)
	return dc.writeStatus(ctx, pdb, status)
}
