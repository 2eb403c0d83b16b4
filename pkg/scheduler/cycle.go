package scheduler

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Event reasons, as Kubernetes' scheduler records them.
const (
	reasonScheduled        = "Scheduled"
	reasonFailedScheduling = "FailedScheduling"
	reasonPreempted        = "Preempted"
)

// scheduleOne runs one scheduling cycle for a popped pod.
func (s *Scheduler) scheduleOne(ctx context.Context, qp *queuedPod) {
	pod := qp.pod
	if !s.responsible(pod) {
		s.queue.Done(qp.key)
		return
	}
	pi := newPodInfo(pod, s.priorityOf(pod))
	res := s.algo.schedule(pi)
	if res.node == "" {
		s.handleUnschedulable(ctx, qp, pi, res)
		return
	}
	s.snap.Assume(pi, res.node)
	s.queue.Done(qp.key)
	select {
	case s.bindSlots <- struct{}{}:
	case <-ctx.Done():
		s.snap.Forget(pi.Key)
		return
	}
	s.inFlight.Add(1)
	go func() {
		defer s.inFlight.Done()
		defer func() { <-s.bindSlots }()
		s.bind(ctx, qp, pi, res)
	}()
}

// bind writes the binding; on failure the assumption is undone and the
// pod retried after its back-off.
func (s *Scheduler) bind(ctx context.Context, qp *queuedPod, pi *PodInfo, res result) {
	pod := pi.Pod
	err := annotateClaims(ctx, s.client, res.volumes, res.node)
	if err == nil {
		err = s.binder.Bind(ctx, pod, res.node)
	}
	if err == nil {
		s.recorder.Eventf(pod, corev1.EventTypeNormal, reasonScheduled,
			"Successfully assigned %s/%s to %s", pod.Namespace, pod.Name, res.node)
		return
	}
	s.snap.Forget(pi.Key)
	if ctx.Err() != nil || apierrors.IsNotFound(err) {
		return
	}
	s.log.Info("binding failed", "pod", pi.Key, "node", res.node, "err", err)
	s.recorder.Eventf(pod, corev1.EventTypeWarning, reasonFailedScheduling, "Binding rejected: %v", err)
	if apierrors.IsConflict(err) {
		// Bound elsewhere or being deleted: the informer will tell.
		return
	}
	s.queue.AddBackoff(qp)
}

// handleUnschedulable explains the failure, tries preemption, reports on
// the pod and parks it.
func (s *Scheduler) handleUnschedulable(ctx context.Context, qp *queuedPod, pi *PodInfo, res result) {
	post := ""
	var plan *preemptionPlan
	if res.numNodes > 0 {
		plan, post = s.preempt(pi, res)
	}
	msg := noNodesMessage(res.numNodes, res.failures, res.podErr, post)
	if res.numNodes == 0 {
		msg = "no nodes available to schedule pods"
	}
	var displaced []*PodInfo
	if plan != nil {
		displaced = s.snap.NominateOver(pi, plan.node)
	}
	s.queue.AddUnschedulable(qp)
	s.inFlight.Add(1)
	go func() {
		defer s.inFlight.Done()
		if plan != nil {
			s.evict(ctx, pi, plan)
		}
		for _, d := range displaced {
			s.clearNomination(ctx, d.Pod)
		}
		s.reportUnschedulable(ctx, pi.Pod, msg, plan)
	}()
}

// reportUnschedulable sets PodScheduled=False (and nominatedNodeName after
// a preemption) when they change, and records a FailedScheduling Event.
func (s *Scheduler) reportUnschedulable(ctx context.Context, pod *corev1.Pod, msg string, plan *preemptionPlan) {
	s.recorder.Event(pod, corev1.EventTypeWarning, reasonFailedScheduling, msg)
	nominated := pod.Status.NominatedNodeName
	if plan != nil {
		nominated = plan.node
	}
	for attempt := 0; attempt < 3; attempt++ {
		cur := pod.DeepCopy()
		if !setUnschedulable(cur, msg, nominated) {
			return
		}
		_, err := s.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		if err == nil || !apierrors.IsConflict(err) {
			if err != nil && !apierrors.IsNotFound(err) && ctx.Err() == nil {
				s.log.Info("update pod status", "pod", podKey(pod), "err", err)
			}
			return
		}
		fresh, err := s.client.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil || fresh.Spec.NodeName != "" || fresh.UID != pod.UID {
			return
		}
		pod = fresh
	}
}

// setUnschedulable changes pod's status to unschedulable with msg and
// reports whether anything changed.
func setUnschedulable(pod *corev1.Pod, msg, nominated string) bool {
	changed := pod.Status.NominatedNodeName != nominated
	pod.Status.NominatedNodeName = nominated
	for i := range pod.Status.Conditions {
		c := &pod.Status.Conditions[i]
		if c.Type != corev1.PodScheduled {
			continue
		}
		if c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable && c.Message == msg {
			return changed
		}
		if c.Status != corev1.ConditionFalse {
			c.LastTransitionTime = metav1.Now()
		}
		c.Status, c.Reason, c.Message = corev1.ConditionFalse, corev1.PodReasonUnschedulable, msg
		c.LastProbeTime = metav1.Time{}
		return true
	}
	pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
		Message: msg, LastTransitionTime: metav1.Now(),
	})
	return true
}
