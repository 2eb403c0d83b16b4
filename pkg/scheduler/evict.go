package scheduler

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// evict deletes the victims of a preemption, gracefully. Each victim first
// gets the DisruptionTarget condition (reason PreemptionByScheduler), so
// controllers (a Job's podFailurePolicy) can tell a preemption from a
// failure; a victim whose condition cannot be written is left running,
// and the preemptor tries again later.
func (s *Scheduler) evict(ctx context.Context, preemptor *PodInfo, plan *preemptionPlan) {
	for _, v := range plan.victims {
		if err := s.markPreempted(ctx, v.Pod); err != nil {
			if !apierrors.IsNotFound(err) && ctx.Err() == nil {
				s.log.Info("preemption: mark victim", "pod", v.Key, "err", err)
			}
			continue
		}
		err := s.client.CoreV1().Pods(v.Pod.Namespace).Delete(ctx, v.Pod.Name, metav1.DeleteOptions{
			Preconditions: &metav1.Preconditions{UID: &v.Pod.UID}})
		if err != nil && !apierrors.IsNotFound(err) {
			s.log.Info("preemption: delete victim", "pod", v.Key, "err", err)
			continue
		}
		s.recorder.Event(v.Pod, corev1.EventTypeNormal, reasonPreempted,
			fmt.Sprintf("Preempted by pod %s on node %s", preemptor.Pod.UID, plan.node))
	}
}

// preemptedCondition is the condition a preemption victim gets before it
// is deleted.
func (s *Scheduler) preemptedCondition() corev1.PodCondition {
	return corev1.PodCondition{
		Type:    corev1.DisruptionTarget,
		Status:  corev1.ConditionTrue,
		Reason:  corev1.PodReasonPreemptionByScheduler,
		Message: s.opts.name + ": preempting to accommodate a higher priority pod",
	}
}

// markPreempted sets the DisruptionTarget condition on pod unless it
// already has it, with a strategic merge patch of its status (conditions
// merge by type, so no other condition is touched).
func (s *Scheduler) markPreempted(ctx context.Context, pod *corev1.Pod) error {
	want := s.preemptedCondition()
	for _, c := range pod.Status.Conditions {
		if c.Type == want.Type && c.Status == want.Status && c.Reason == want.Reason && c.Message == want.Message {
			return nil
		}
	}
	want.LastTransitionTime = metav1.Now()
	patch, err := json.Marshal(map[string]any{"status": map[string]any{"conditions": []corev1.PodCondition{want}}})
	if err != nil {
		return fmt.Errorf("mark %s preempted: %w", podKey(pod), err)
	}
	_, err = s.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch,
		metav1.PatchOptions{}, "status")
	if err != nil {
		return fmt.Errorf("mark %s preempted: %w", podKey(pod), err)
	}
	return nil
}

// clearNomination removes a pod's status.nominatedNodeName after a pod of
// higher priority took the room it was nominated for.
func (s *Scheduler) clearNomination(ctx context.Context, pod *corev1.Pod) {
	patch := []byte(`{"status":{"nominatedNodeName":null}}`)
	_, err := s.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.MergePatchType, patch,
		metav1.PatchOptions{}, "status")
	if err != nil && !apierrors.IsNotFound(err) && ctx.Err() == nil {
		s.log.Info("preemption: clear nomination", "pod", podKey(pod), "err", err)
	}
}
