package nodelifecycle

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
)

// evictionDeadline decides when a pod must leave a node with the given
// NoExecute taints. since is when each taint was first seen (by index).
// A taint the pod does not tolerate evicts it at once (the zero time);
// otherwise the pod may stay for the smallest tolerationSeconds among the
// tolerations it uses, counted from the latest of its taints' times and
// the pod's own start on the node. forever is true when none of those
// tolerations is bounded.
func evictionDeadline(tolerations []corev1.Toleration, taints []corev1.Taint, since []time.Time, podStart time.Time) (deadline time.Time, forever bool) {
	minSeconds := int64(-1)
	start := podStart
	for i := range taints {
		tolerated := false
		for j := range tolerations {
			if !tolerations[j].ToleratesTaint(klog.Background(), &taints[i], false) {
				continue
			}
			tolerated = true
			if s := tolerations[j].TolerationSeconds; s != nil && (minSeconds < 0 || max(*s, 0) < minSeconds) {
				minSeconds = max(*s, 0)
			}
		}
		if !tolerated {
			return time.Time{}, false
		}
		if since[i].After(start) {
			start = since[i]
		}
	}
	if minSeconds < 0 {
		return time.Time{}, true
	}
	return start.Add(time.Duration(minSeconds) * time.Second), false
}

// noExecuteTaints returns the node's NoExecute taints.
func noExecuteTaints(n *corev1.Node) []corev1.Taint {
	var out []corev1.Taint
	for _, t := range n.Spec.Taints {
		if t.Effect == corev1.TaintEffectNoExecute {
			out = append(out, t)
		}
	}
	return out
}
