package scheduler

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// Failure texts, the same as Kubernetes prints them.
const (
	reasonUnschedulable    = "node(s) were unschedulable"
	reasonNodeName         = "node(s) didn't match the requested node name"
	reasonNodeAffinity     = "node(s) didn't match Pod's node affinity/selector"
	reasonNodePorts        = "node(s) didn't have free ports for the requested pod ports"
	reasonTooManyPods      = "Too many pods"
	reasonSpread           = "node(s) didn't match pod topology spread constraints"
	reasonSpreadLabel      = reasonSpread + " (missing required label)"
	reasonAffinity         = "node(s) didn't match pod affinity rules"
	reasonAntiAffinity     = "node(s) didn't match pod anti-affinity rules"
	reasonExistingAnti     = "node(s) didn't satisfy existing pods anti-affinity rules"
	reasonVolumeAffinity   = "node(s) didn't match PersistentVolume's node affinity"
	reasonVolumeMissingPV  = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"
	unschedulableTaintKey  = "node.kubernetes.io/unschedulable"
	insufficientReasonText = "Insufficient %s"
)

// nodeUnschedulable rejects cordoned nodes unless the pod tolerates the
// node.kubernetes.io/unschedulable:NoSchedule taint.
type nodeUnschedulable struct{ tolerated bool }

func (f *nodeUnschedulable) Name() string { return "NodeUnschedulable" }

func (f *nodeUnschedulable) SetPod(c *cycle) (bool, error) {
	f.tolerated = tolerates(c.pod.Pod.Spec.Tolerations,
		&corev1.Taint{Key: unschedulableTaintKey, Effect: corev1.TaintEffectNoSchedule})
	return !f.tolerated, nil
}

func (f *nodeUnschedulable) Check(n *NodeInfo) *Failure {
	if n.Node.Spec.Unschedulable {
		return unresolvable(reasonUnschedulable)
	}
	return nil
}

// nodeName keeps a pod that names its node on that node.
type nodeName struct{ want string }

func (f *nodeName) Name() string { return "NodeName" }

func (f *nodeName) SetPod(c *cycle) (bool, error) {
	f.want = c.pod.Pod.Spec.NodeName
	return f.want != "", nil
}

func (f *nodeName) Check(n *NodeInfo) *Failure {
	if n.Node.Name != f.want {
		return unresolvable(reasonNodeName)
	}
	return nil
}

// taintToleration rejects nodes with a NoSchedule or NoExecute taint the pod
// does not tolerate, naming the first such taint.
type taintToleration struct{ tols []corev1.Toleration }

func (f *taintToleration) Name() string { return "TaintToleration" }

func (f *taintToleration) SetPod(c *cycle) (bool, error) {
	f.tols = c.pod.Pod.Spec.Tolerations
	return true, nil
}

func (f *taintToleration) Check(n *NodeInfo) *Failure {
	for i := range n.Node.Spec.Taints {
		t := &n.Node.Spec.Taints[i]
		if t.Effect != corev1.TaintEffectNoSchedule && t.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		if !tolerates(f.tols, t) {
			return unresolvable(fmt.Sprintf("node(s) had untolerated taint {%s: %s}", t.Key, t.Value))
		}
	}
	return nil
}

// nodeAffinity applies nodeSelector and required node affinity.
type nodeAffinity struct{ pod *corev1.Pod }

func (f *nodeAffinity) Name() string { return "NodeAffinity" }

func (f *nodeAffinity) SetPod(c *cycle) (bool, error) {
	f.pod = c.pod.Pod
	a := f.pod.Spec.Affinity
	return len(f.pod.Spec.NodeSelector) > 0 ||
		(a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil), nil
}

func (f *nodeAffinity) Check(n *NodeInfo) *Failure {
	if !podMatchesNodeSelection(f.pod, n.Node) {
		return unresolvable(reasonNodeAffinity)
	}
	return nil
}
