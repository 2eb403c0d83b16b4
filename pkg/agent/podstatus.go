package agent

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// Pod condition types newer than some k8s.io/api constants.
const podReadyToStartContainers corev1.PodConditionType = "PodReadyToStartContainers"

// mtime is the API's second precision, so a status read back compares
// equal to the one written.
func mtime(t time.Time) metav1.Time { return metav1.NewTime(t.Truncate(time.Second)) }

// initDone: the pod got past its init containers once, or every regular
// init container succeeded and every sidecar runs.
func initDone(st *podState) bool {
	if st.initialized {
		return true
	}
	for i := range st.init {
		c := &st.init[i]
		if !c.succeeded() && !(c.sidecar && c.running()) {
			return false
		}
	}
	return true
}

// podPhase derives the phase from the containers' states.
func podPhase(st *podState, pod *corev1.Pod) corev1.PodPhase {
	if st.terminal != "" {
		return st.terminal
	}
	policy := pod.Spec.RestartPolicy
	if !initDone(st) {
		for i := range st.init {
			c := &st.init[i]
			if c.exited() && !c.succeeded() && policy == corev1.RestartPolicyNever && !isSidecar(&pod.Spec.InitContainers[i]) {
				return corev1.PodFailed
			}
		}
		return corev1.PodPending
	}
	var running, failed, neverRan int
	for i := range st.app {
		c := &st.app[i]
		switch {
		case c.running():
			running++
		case c.exited() && c.last.ExitCode != 0:
			failed++
		case c.exited():
		default:
			if c.restarts == 0 {
				neverRan++
			} else {
				running++
			}
		}
	}
	switch {
	case neverRan > 0:
		return corev1.PodPending
	case running > 0:
		return corev1.PodRunning
	case policy == corev1.RestartPolicyAlways:
		return corev1.PodRunning
	case failed == 0:
		return corev1.PodSucceeded
	case policy == corev1.RestartPolicyNever:
		return corev1.PodFailed
	}
	return corev1.PodRunning // OnFailure: failed ones restart
}

// buildStatus computes the pod status from the agent's state, keeping
// fields the agent does not own from base.
func (a *Agent) buildStatus(st *podState, pod *corev1.Pod, base *corev1.PodStatus) corev1.PodStatus {
	s := *base.DeepCopy()
	s.Phase = podPhase(st, pod)
	s.HostIP = a.hostIP
	s.HostIPs = nil
	if a.hostIP != "" {
		s.HostIPs = []corev1.HostIP{{IP: a.hostIP}}
	}
	ip := st.sandbox.IP
	if pod.Spec.HostNetwork {
		ip = a.hostIP
	}
	// A finished pod keeps reporting the address it had.
	if ip != "" {
		s.PodIP, s.PodIPs = ip, []corev1.PodIP{{IP: ip}}
	}
	if !st.startTime.IsZero() {
		t := mtime(st.startTime)
		s.StartTime = &t
	}
	inited := initDone(st)
	s.InitContainerStatuses = a.containerStatuses(st.init, pod.Spec.InitContainers, st, pod, inited, true)
	s.ContainerStatuses = a.containerStatuses(st.app, pod.Spec.Containers, st, pod, inited, false)
	if s.Phase == corev1.PodSucceeded || s.Phase == corev1.PodFailed {
		s.Reason, s.Message = "", ""
	}
	s.Conditions = a.podConditions(st, pod, &s, base.Conditions, inited)
	return s
}

func (a *Agent) containerStatuses(cs []containerState, specs []corev1.Container, st *podState, pod *corev1.Pod, inited, init bool) []corev1.ContainerStatus {
	if len(specs) == 0 {
		return nil
	}
	out := make([]corev1.ContainerStatus, len(specs))
	for i := range specs {
		c, spec := &cs[i], &specs[i]
		o := &out[i]
		o.Name, o.Image, o.ImageID, o.RestartCount = spec.Name, spec.Image, c.imageID, c.restarts
		if c.id != "" {
			o.ContainerID = a.containerIDPrefix() + c.id
		}
		if c.lastTerm != nil {
			o.LastTerminationState = corev1.ContainerState{Terminated: terminated(c.lastTerm, a.containerIDPrefix())}
		}
		started := false
		switch {
		case c.running():
			o.State.Running = &corev1.ContainerStateRunning{StartedAt: mtime(c.last.StartedAt)}
			o.Ready, started = true, true
			if !init || isSidecar(spec) {
				ps := a.probeMgr.Status(podKey(pod), spec, c.id)
				o.Ready, started = ps.Ready, ps.Started
			}
		case c.exited() && c.waitReason != "":
			o.State.Waiting = &corev1.ContainerStateWaiting{Reason: c.waitReason, Message: c.waitMessage}
			o.LastTerminationState = corev1.ContainerState{Terminated: terminated(&c.last, a.containerIDPrefix())}
		case c.exited():
			o.State.Terminated = terminated(&c.last, a.containerIDPrefix())
			o.Ready = init && c.succeeded() && !isSidecar(spec) // a finished init container counts as ready
		default:
			reason := c.waitReason
			if reason == "" {
				reason = "ContainerCreating"
				if !init && !inited || init && st.sandbox.ID == "" {
					reason = "PodInitializing"
				}
			}
			o.State.Waiting = &corev1.ContainerStateWaiting{Reason: reason, Message: c.waitMessage}
		}
		o.Started = &started
	}
	return out
}

func terminated(s *runtime.ContainerStatus, prefix string) *corev1.ContainerStateTerminated {
	reason := s.Reason
	if reason == "" {
		reason = runtime.ReasonError
		if s.ExitCode == 0 {
			reason = runtime.ReasonCompleted
		}
	}
	return &corev1.ContainerStateTerminated{
		ExitCode: s.ExitCode, Reason: reason, Message: s.Message,
		StartedAt: mtime(s.StartedAt), FinishedAt: mtime(s.FinishedAt), ContainerID: prefix + s.ID,
	}
}

// containerIDPrefix is "<runtime name>://". The name never changes, so
// the runtime is asked once (again only after a failure), not for every
// container of every status.
func (a *Agent) containerIDPrefix() string {
	if p, ok := a.idPrefix.Load().(string); ok {
		return p
	}
	v, err := a.rt.Version(context.Background())
	if err != nil {
		return ""
	}
	p := v.RuntimeName + "://"
	a.idPrefix.Store(p)
	return p
}

func (a *Agent) podConditions(st *podState, pod *corev1.Pod, s *corev1.PodStatus, old []corev1.PodCondition, inited bool) []corev1.PodCondition {
	cond := func(t corev1.PodConditionType, ok bool, reason, msg string) corev1.PodCondition {
		c := corev1.PodCondition{Type: t, Status: corev1.ConditionTrue}
		if !ok {
			c.Status, c.Reason, c.Message = corev1.ConditionFalse, reason, msg
		}
		return c
	}
	var notInit, notReady []string
	for i := range st.init {
		if !inited && !st.init[i].succeeded() && !(isSidecar(&pod.Spec.InitContainers[i]) && st.init[i].running()) {
			notInit = append(notInit, pod.Spec.InitContainers[i].Name)
		}
	}
	for i, cs := range s.InitContainerStatuses {
		if isSidecar(&pod.Spec.InitContainers[i]) && !cs.Ready {
			notReady = append(notReady, cs.Name)
		}
	}
	for i, cs := range s.ContainerStatuses {
		if !cs.Ready {
			notReady = append(notReady, pod.Spec.Containers[i].Name)
		}
	}
	terminal := s.Phase == corev1.PodSucceeded || s.Phase == corev1.PodFailed
	readyReason, readyMsg := "ContainersNotReady", fmt.Sprintf("containers with unready status: [%s]", strings.Join(notReady, " "))
	if terminal {
		readyReason, readyMsg = "PodCompleted", ""
	}
	initReason, initMsg := "ContainersNotInitialized", fmt.Sprintf("containers with incomplete status: [%s]", strings.Join(notInit, " "))
	ready := len(notReady) == 0 && !terminal
	podReady, podReason, podMsg := ready, readyReason, readyMsg
	if ready {
		podReady, podMsg = readinessGatesPass(pod, old)
		podReason = "ReadinessGatesNotReady"
	}
	mine := []corev1.PodCondition{
		cond(podReadyToStartContainers, st.sandbox.ID != "" && !st.torndown, "", ""),
		cond(corev1.PodInitialized, inited, initReason, initMsg),
		cond(corev1.ContainersReady, ready, readyReason, readyMsg),
		cond(corev1.PodReady, podReady, podReason, podMsg),
	}
	out := make([]corev1.PodCondition, 0, len(mine)+2)
	hasScheduled := false
	for _, o := range old {
		owned := false
		for _, m := range mine {
			owned = owned || m.Type == o.Type
		}
		if !owned {
			out = append(out, o)
			hasScheduled = hasScheduled || o.Type == corev1.PodScheduled
		}
	}
	if !hasScheduled {
		out = append(out, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: mtime(st.startTime)})
	}
	now := mtime(a.now())
	for _, m := range mine {
		m.LastTransitionTime = now
		for _, o := range old {
			if o.Type == m.Type && o.Status == m.Status {
				m.LastTransitionTime = o.LastTransitionTime
			}
		}
		out = append(out, m)
	}
	return out
}

// writeStatus posts the pod status when it differs from what the API
// holds (or from what this agent last wrote, while the informer has not
// caught up with that write).
func (a *Agent) writeStatus(ctx context.Context, st *podState, pod *corev1.Pod) error {
	base := &pod.Status
	rv := pod.ResourceVersion
	if st.written != nil && pod.ResourceVersion == st.writtenRV {
		base, rv = st.written, st.writtenResultRV
	}
	next := a.buildStatus(st, pod, base)
	if apiequality.Semantic.DeepEqual(&next, base) {
		return nil
	}
	upd := pod.DeepCopy()
	upd.ResourceVersion = rv
	upd.Status = next
	res, err := a.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, upd, metav1.UpdateOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil // the delete event follows
		}
		return fmt.Errorf("update status of pod %s: %w", podKey(pod), err)
	}
	st.written, st.writtenRV = &next, pod.ResourceVersion
	// The informer's handler reads writtenResultRV to recognise the echo
	// of this write (ownStatusEcho).
	a.mu.Lock()
	st.writtenResultRV = res.ResourceVersion
	a.mu.Unlock()
	return nil
}

// readinessGatesPass: every readiness gate's condition (written by
// others into the pod status) is True. The message names the first gate
// that is not.
func readinessGatesPass(pod *corev1.Pod, conds []corev1.PodCondition) (bool, string) {
	for _, g := range pod.Spec.ReadinessGates {
		var found *corev1.PodCondition
		for i := range conds {
			if conds[i].Type == g.ConditionType {
				found = &conds[i]
			}
		}
		if found == nil {
			return false, fmt.Sprintf("corresponding condition of pod readiness gate %q does not exist.", g.ConditionType)
		}
		if found.Status != corev1.ConditionTrue {
			return false, fmt.Sprintf("the status of pod readiness gate %q is not \"True\", but %v", g.ConditionType, found.Status)
		}
	}
	return true, ""
}
