package daemonset

import (
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
)

// nodeNameField is the node field a daemon pod's affinity pins it with.
const nodeNameField = "metadata.name"

// Placement says what a DaemonSet wants on one node.
type Placement struct {
	// ShouldRun: the node should run a daemon pod (create one if missing).
	ShouldRun bool
	// ShouldContinueRunning: a daemon pod already there may stay (false
	// when the node stopped matching or got a NoExecute taint the pod does
	// not tolerate).
	ShouldContinueRunning bool
}

// NodePlacement decides whether node should run a pod of ds: the template's
// nodeName (if any) must name it, its nodeSelector and required node
// affinity must match, and every NoSchedule and NoExecute taint must be
// tolerated by the template's tolerations plus the daemon tolerations. A
// node whose only untolerated taints are NoSchedule keeps the pods it has.
func NodePlacement(node *corev1.Node, ds *appsv1.DaemonSet) Placement {
	spec := &ds.Spec.Template.Spec
	if spec.NodeName != "" && spec.NodeName != node.Name {
		return Placement{}
	}
	if ok, err := nodeaffinity.NewRequiredNodeAffinity(spec.NodeSelector, spec.Affinity).Match(node); err != nil || !ok {
		return Placement{}
	}
	tolerations := withDaemonTolerations(spec.Tolerations, spec.HostNetwork)
	var noSchedule, noExecute bool
	for i := range node.Spec.Taints {
		taint := &node.Spec.Taints[i]
		if taint.Effect != corev1.TaintEffectNoSchedule && taint.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		if tolerated(tolerations, taint) {
			continue
		}
		if taint.Effect == corev1.TaintEffectNoExecute {
			noExecute = true
		} else {
			noSchedule = true
		}
	}
	return Placement{ShouldRun: !noSchedule && !noExecute, ShouldContinueRunning: !noExecute}
}

func tolerated(tolerations []corev1.Toleration, taint *corev1.Taint) bool {
	for i := range tolerations {
		if tolerations[i].ToleratesTaint(klog.Background(), taint, false) {
			return true
		}
	}
	return false
}

// daemonTolerations are the tolerations every daemon pod gets, so that
// node conditions that keep other pods away do not evict or block daemons.
func daemonTolerations(hostNetwork bool) []corev1.Toleration {
	exists := func(key string, effect corev1.TaintEffect) corev1.Toleration {
		return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: effect}
	}
	out := []corev1.Toleration{
		exists(corev1.TaintNodeNotReady, corev1.TaintEffectNoExecute),
		exists(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute),
		exists(corev1.TaintNodeDiskPressure, corev1.TaintEffectNoSchedule),
		exists(corev1.TaintNodeMemoryPressure, corev1.TaintEffectNoSchedule),
		exists(corev1.TaintNodePIDPressure, corev1.TaintEffectNoSchedule),
		exists(corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule),
	}
	if hostNetwork {
		out = append(out, exists(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule))
	}
	return out
}

// withDaemonTolerations adds the daemon tolerations to tolerations, each
// replacing a toleration of the same key and effect.
func withDaemonTolerations(tolerations []corev1.Toleration, hostNetwork bool) []corev1.Toleration {
	add := daemonTolerations(hostNetwork)
	out := slices.DeleteFunc(slices.Clone(tolerations), func(t corev1.Toleration) bool {
		return slices.ContainsFunc(add, func(a corev1.Toleration) bool { return a.Key == t.Key && a.Effect == t.Effect })
	})
	return append(out, add...)
}

// pinnedAffinity returns affinity with its required node affinity
// replaced by one term selecting nodeName only: the controller already
// checked that the node matches the template's own terms.
func pinnedAffinity(affinity *corev1.Affinity, nodeName string) *corev1.Affinity {
	out := affinity.DeepCopy()
	if out == nil {
		out = &corev1.Affinity{}
	}
	if out.NodeAffinity == nil {
		out.NodeAffinity = &corev1.NodeAffinity{}
	}
	out.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchFields: []corev1.NodeSelectorRequirement{{
				Key: nodeNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{nodeName},
			}},
		}},
	}
	return out
}

// TargetNode is the node a daemon pod is for: its nodeName once bound,
// otherwise the node its pinned affinity names ("" when neither).
func TargetNode(pod *corev1.Pod) string {
	if pod.Spec.NodeName != "" {
		return pod.Spec.NodeName
	}
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	terms := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	for _, t := range terms {
		for _, f := range t.MatchFields {
			if f.Key == nodeNameField && f.Operator == corev1.NodeSelectorOpIn && len(f.Values) == 1 {
				return f.Values[0]
			}
		}
	}
	return ""
}
