package nodelifecycle

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Reasons and messages of the conditions the controller writes, as
// Kubernetes words them.
const (
	reasonStatusUnknown      = "NodeStatusUnknown"
	messageStatusUnknown     = "Kubelet stopped posting node status."
	reasonStatusNeverUpdated = "NodeStatusNeverUpdated"
	messageNeverUpdated      = "Kubelet never posted node status."
)

// monitoredConditions are the agent-owned conditions that turn Unknown when
// the agent stops reporting. NetworkUnavailable belongs to the network
// setup and is left alone.
var monitoredConditions = []corev1.NodeConditionType{
	corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure,
}

// health is what the controller remembers of a node's heartbeats. probe
// is the controller's own clock reading when a heartbeat last changed, so
// a skewed node clock cannot keep a dead node alive or kill a live one.
type health struct {
	probe          time.Time
	readyHeartbeat time.Time
	leaseRenew     time.Time
}

// observe returns the node's health after seeing its current Ready
// heartbeat and Lease renewTime (zero when absent). A node seen for the
// first time counts from now, or from its creation when it never reported.
func observe(prev *health, created, readyHeartbeat, leaseRenew, now time.Time) health {
	if prev == nil {
		h := health{probe: now, readyHeartbeat: readyHeartbeat, leaseRenew: leaseRenew}
		if readyHeartbeat.IsZero() && leaseRenew.IsZero() && !created.IsZero() {
			h.probe = created
		}
		return h
	}
	h := *prev
	if !readyHeartbeat.Equal(h.readyHeartbeat) || !leaseRenew.Equal(h.leaseRenew) {
		h.probe, h.readyHeartbeat, h.leaseRenew = now, readyHeartbeat, leaseRenew
	}
	return h
}

// staleAfter is when the node counts as no longer reporting: the grace
// period after the last observed heartbeat, or the startup grace period
// for a node that never posted a Ready condition.
func staleAfter(h health, everReady bool, grace, startupGrace time.Duration) time.Time {
	if !everReady {
		return h.probe.Add(startupGrace)
	}
	return h.probe.Add(grace)
}

// markUnknown sets every monitored condition to Unknown, the way
// Kubernetes does for a node whose agent went silent. It reports whether
// anything changed; conditions already Unknown keep their times.
func markUnknown(conds []corev1.NodeCondition, created, now time.Time) ([]corev1.NodeCondition, bool) {
	out := append([]corev1.NodeCondition(nil), conds...)
	changed := false
	for _, typ := range monitoredConditions {
		i := conditionIndex(out, typ)
		if i < 0 {
			out = append(out, corev1.NodeCondition{
				Type: typ, Status: corev1.ConditionUnknown, Reason: reasonStatusNeverUpdated, Message: messageNeverUpdated,
				LastHeartbeatTime: metav1.NewTime(created), LastTransitionTime: metav1.NewTime(now),
			})
			changed = true
			continue
		}
		if out[i].Status == corev1.ConditionUnknown {
			continue
		}
		out[i].Status, out[i].Reason, out[i].Message = corev1.ConditionUnknown, reasonStatusUnknown, messageStatusUnknown
		out[i].LastTransitionTime = metav1.NewTime(now)
		changed = true
	}
	return out, changed
}

func conditionIndex(conds []corev1.NodeCondition, typ corev1.NodeConditionType) int {
	for i := range conds {
		if conds[i].Type == typ {
			return i
		}
	}
	return -1
}

// condition returns the node's condition of a type, or nil.
func condition(n *corev1.Node, typ corev1.NodeConditionType) *corev1.NodeCondition {
	if i := conditionIndex(n.Status.Conditions, typ); i >= 0 {
		return &n.Status.Conditions[i]
	}
	return nil
}

// readyStatus is the node's Ready condition status (Unknown when missing).
func readyStatus(n *corev1.Node) corev1.ConditionStatus {
	if c := condition(n, corev1.NodeReady); c != nil {
		return c.Status
	}
	return corev1.ConditionUnknown
}
