package nodelifecycle

import (
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// conditionTaintKeys are the NoSchedule taints this controller owns: each
// mirrors one node condition (or spec.unschedulable).
var conditionTaintKeys = []string{
	corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable, corev1.TaintNodeUnschedulable,
	corev1.TaintNodeMemoryPressure, corev1.TaintNodeDiskPressure, corev1.TaintNodePIDPressure,
	corev1.TaintNodeNetworkUnavailable,
}

// noScheduleTaints returns the NoSchedule taint keys a node's conditions
// call for: not-ready for Ready=False, unreachable for Ready=Unknown (a
// node that never posted Ready gets it only once it is marked Unknown
// after the startup grace period), one per pressure or NetworkUnavailable condition that is True,
// and unschedulable for a cordoned node.
func noScheduleTaints(n *corev1.Node) []string {
	var keys []string
	switch noExecuteTaint(n) {
	case corev1.TaintNodeNotReady:
		keys = append(keys, corev1.TaintNodeNotReady)
	case corev1.TaintNodeUnreachable:
		keys = append(keys, corev1.TaintNodeUnreachable)
	}
	for _, m := range []struct {
		typ corev1.NodeConditionType
		key string
	}{
		{corev1.NodeMemoryPressure, corev1.TaintNodeMemoryPressure},
		{corev1.NodeDiskPressure, corev1.TaintNodeDiskPressure},
		{corev1.NodePIDPressure, corev1.TaintNodePIDPressure},
		{corev1.NodeNetworkUnavailable, corev1.TaintNodeNetworkUnavailable},
	} {
		if c := condition(n, m.typ); c != nil && c.Status == corev1.ConditionTrue {
			keys = append(keys, m.key)
		}
	}
	if n.Spec.Unschedulable {
		keys = append(keys, corev1.TaintNodeUnschedulable)
	}
	return keys
}

// noExecuteTaint returns the NoExecute taint key the Ready condition calls
// for: not-ready (False), unreachable (Unknown) or none (True or no Ready
// condition yet).
func noExecuteTaint(n *corev1.Node) string {
	c := condition(n, corev1.NodeReady)
	if c == nil {
		return ""
	}
	switch c.Status {
	case corev1.ConditionFalse:
		return corev1.TaintNodeNotReady
	case corev1.ConditionUnknown:
		return corev1.TaintNodeUnreachable
	}
	return ""
}

// currentNoExecute returns which of the controller's NoExecute taints the
// node carries ("" for none).
func currentNoExecute(taints []corev1.Taint) string {
	for _, t := range taints {
		if t.Effect == corev1.TaintEffectNoExecute && (t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable) {
			return t.Key
		}
	}
	return ""
}

// withTaints returns the node's taints with the controller-owned ones
// replaced: exactly the NoSchedule keys in noSchedule, and the NoExecute
// key noExecute ("" for none). Taints it does not own, and owned taints
// that stay, are kept as they are (with their timeAdded). New NoExecute
// taints get timeAdded = now, which eviction deadlines count from.
func withTaints(taints []corev1.Taint, noSchedule []string, noExecute string, now time.Time) []corev1.Taint {
	owned := func(t corev1.Taint) bool {
		switch t.Effect {
		case corev1.TaintEffectNoSchedule:
			return slices.Contains(conditionTaintKeys, t.Key)
		case corev1.TaintEffectNoExecute:
			return t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable
		}
		return false
	}
	has := func(key string, effect corev1.TaintEffect) bool {
		return slices.ContainsFunc(taints, func(t corev1.Taint) bool { return t.Key == key && t.Effect == effect })
	}
	var out []corev1.Taint
	for _, t := range taints {
		switch {
		case !owned(t):
			out = append(out, t)
		case t.Effect == corev1.TaintEffectNoSchedule && slices.Contains(noSchedule, t.Key):
			out = append(out, t)
		case t.Effect == corev1.TaintEffectNoExecute && t.Key == noExecute:
			out = append(out, t)
		}
	}
	for _, key := range noSchedule {
		if !has(key, corev1.TaintEffectNoSchedule) {
			out = append(out, corev1.Taint{Key: key, Effect: corev1.TaintEffectNoSchedule})
		}
	}
	if noExecute != "" && !has(noExecute, corev1.TaintEffectNoExecute) {
		added := metav1.NewTime(now)
		out = append(out, corev1.Taint{Key: noExecute, Effect: corev1.TaintEffectNoExecute, TimeAdded: &added})
	}
	return out
}
