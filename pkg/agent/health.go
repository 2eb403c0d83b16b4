package agent

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NodeHealth is what the node's conditions report, as a real node measures
// it (Options.Health). The zero value is a healthy node.
type NodeHealth struct {
	// RuntimeErr and NetworkErr, when set, make the node NotReady: the
	// container runtime does not answer, or the pod network is not set up
	// yet (NetworkUnavailable is then True as well).
	RuntimeErr, NetworkErr error
	// MemoryPressure, DiskPressure and PIDPressure, when not empty, set the
	// condition True with this message.
	MemoryPressure, DiskPressure, PIDPressure string
}

// measured is one measurement of the node: its health and the runtime's
// version.
type measured struct {
	NodeHealth
	runtimeVersion string
}

// measure asks the runtime its version and Options.Health, if any, for the
// rest. A runtime that does not answer makes the node NotReady ("container
// runtime is down") and keeps the version last reported.
func (a *Agent) measure(ctx context.Context) measured {
	var m measured
	if a.opts.Health != nil {
		m.NodeHealth = a.opts.Health(ctx)
	}
	vctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if v, err := a.rt.Version(vctx); err == nil {
		m.runtimeVersion = v.String()
	} else {
		if m.RuntimeErr == nil {
			m.RuntimeErr = err
		}
		if a.node.node != nil {
			m.runtimeVersion = a.node.node.Status.NodeInfo.ContainerRuntimeVersion
		}
	}
	return m
}

// nodeConditions computes the conditions from h, with Kubernetes' reasons,
// keeping transition times from old where a condition's status did not
// change.
func (a *Agent) nodeConditions(old []corev1.NodeCondition, h NodeHealth) []corev1.NodeCondition {
	now := metav1.NewTime(a.now().Truncate(time.Second))
	conds := []corev1.NodeCondition{
		pressure(corev1.NodeMemoryPressure, h.MemoryPressure, "KubeletHasSufficientMemory", "kubelet has sufficient memory available", "KubeletHasInsufficientMemory"),
		pressure(corev1.NodeDiskPressure, h.DiskPressure, "KubeletHasNoDiskPressure", "kubelet has no disk pressure", "KubeletHasDiskPressure"),
		pressure(corev1.NodePIDPressure, h.PIDPressure, "KubeletHasSufficientPID", "kubelet has sufficient PID available", "KubeletHasInsufficientPID"),
		{Type: corev1.NodeNetworkUnavailable, Status: corev1.ConditionFalse, Reason: "RouteCreated", Message: "agent configured the pod network"},
		{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status"},
	}
	if h.NetworkErr != nil {
		conds[3] = corev1.NodeCondition{Type: corev1.NodeNetworkUnavailable, Status: corev1.ConditionTrue, Reason: "NoRouteCreated",
			Message: "pod network not ready: " + h.NetworkErr.Error()}
	}
	switch {
	case h.RuntimeErr != nil:
		conds[4] = notReady("container runtime is down: " + h.RuntimeErr.Error())
	case h.NetworkErr != nil:
		conds[4] = notReady("container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:" + h.NetworkErr.Error())
	}
	for i := range conds {
		c := &conds[i]
		c.LastHeartbeatTime, c.LastTransitionTime = now, now
		for _, o := range old {
			if o.Type == c.Type && o.Status == c.Status {
				c.LastTransitionTime = o.LastTransitionTime
			}
		}
	}
	return conds
}

func pressure(t corev1.NodeConditionType, msg, okReason, okMessage, badReason string) corev1.NodeCondition {
	if msg == "" {
		return corev1.NodeCondition{Type: t, Status: corev1.ConditionFalse, Reason: okReason, Message: okMessage}
	}
	return corev1.NodeCondition{Type: t, Status: corev1.ConditionTrue, Reason: badReason, Message: msg}
}

func notReady(msg string) corev1.NodeCondition {
	return corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionFalse, Reason: "KubeletNotReady", Message: msg}
}
