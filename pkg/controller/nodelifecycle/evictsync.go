package nodelifecycle

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Reasons of the DisruptionTarget condition, as Kubernetes names them.
const (
	reasonTaintEviction = "DeletionByTaintManager"
	reasonPodGC         = "DeletionByPodGC"
)

// syncEvictions deletes the pods of one node whose NoExecute taints they
// do not (or no longer) tolerate, and comes back when the next toleration
// runs out.
func (nc *Controller) syncEvictions(ctx context.Context, name string) error {
	node, err := nc.nodes.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !nc.managed(node) {
		return nil
	}
	taints := noExecuteTaints(node)
	if len(taints) == 0 {
		return nil
	}
	now := nc.now()
	since := nc.taintTimes(name, taints, now)
	var next time.Time
	var errs []error
	for _, p := range nc.podsOn(name) {
		if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		deadline, forever := evictionDeadline(p.Spec.Tolerations, taints, since, p.CreationTimestamp.Time)
		switch {
		case forever:
		case !deadline.After(now):
			if err := nc.evict(ctx, p, reasonTaintEviction, "Taint manager: deleting due to NoExecute taint", nil); err != nil {
				errs = append(errs, err)
				continue
			}
			nc.events.Eventf(p, corev1.EventTypeNormal, "TaintManagerEviction", "Marking for deletion Pod %s/%s", p.Namespace, p.Name)
		case next.IsZero() || deadline.Before(next):
			next = deadline
		}
	}
	if !next.IsZero() {
		nc.evictQueue.AddAfter(name, next.Sub(now)+10*time.Millisecond)
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// taintTimes returns when each taint was added: its timeAdded, or the
// first time the controller saw it when it has none.
func (nc *Controller) taintTimes(node string, taints []corev1.Taint, now time.Time) []time.Time {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	out := make([]time.Time, len(taints))
	for i, t := range taints {
		if t.TimeAdded != nil {
			out[i] = t.TimeAdded.Time
			continue
		}
		key := node + "/" + t.Key
		if _, ok := nc.taintSeen[key]; !ok {
			nc.taintSeen[key] = now
		}
		out[i] = nc.taintSeen[key]
	}
	return out
}

// evict records why a pod goes (the DisruptionTarget condition) and
// deletes it, gracefully unless grace is set.
func (nc *Controller) evict(ctx context.Context, p *corev1.Pod, reason, message string, grace *int64) error {
	patch, err := json.Marshal(map[string]any{"status": map[string]any{"conditions": []corev1.PodCondition{{
		Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: reason, Message: message,
		LastTransitionTime: metav1.NewTime(nc.now()),
	}}}})
	if err != nil {
		return fmt.Errorf("evict %s/%s: %w", p.Namespace, p.Name, err)
	}
	pods := nc.client.CoreV1().Pods(p.Namespace)
	if _, err := pods.Patch(ctx, p.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("evict %s/%s: condition: %w", p.Namespace, p.Name, err)
	}
	err = pods.Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: grace, Preconditions: metav1.NewUIDPreconditions(string(p.UID))})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("evict %s/%s: %w", p.Namespace, p.Name, err)
	}
	nc.log.Info("evicted pod", "pod", p.Namespace+"/"+p.Name, "node", p.Spec.NodeName, "reason", reason)
	return nil
}
