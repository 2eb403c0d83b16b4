package scheduler

import (
	"maps"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// NodeInfo is one node as the scheduler sees it: the Node object and what
// the pods on it (bound or assumed) take.
type NodeInfo struct {
	Node        *corev1.Node
	Allocatable Resources
	Requested   Resources
	// NonZeroMilliCPU and NonZeroMemory sum the pods' score requests.
	NonZeroMilliCPU, NonZeroMemory int64
	Pods                           []*PodInfo
	// Nominated are pods that preempted others here and wait for room.
	Nominated []*PodInfo
	usedPorts map[hostPort]int
	// antiAffinityPods counts pods here with required anti-affinity.
	antiAffinityPods int
}

// Name is the node's name.
func (n *NodeInfo) Name() string { return n.Node.Name }

func newNodeInfo() *NodeInfo { return &NodeInfo{usedPorts: map[hostPort]int{}} }

func (n *NodeInfo) addPod(pi *PodInfo) {
	n.Pods = append(n.Pods, pi)
	n.Requested.add(pi.Requests)
	n.NonZeroMilliCPU += pi.NonZeroMilliCPU
	n.NonZeroMemory += pi.NonZeroMemory
	for _, p := range pi.Ports {
		n.usedPorts[p]++
	}
	if len(pi.RequiredAntiAffinity) > 0 {
		n.antiAffinityPods++
	}
}

func (n *NodeInfo) removePod(key string) *PodInfo {
	for i, pi := range n.Pods {
		if pi.Key != key {
			continue
		}
		last := len(n.Pods) - 1
		n.Pods[i] = n.Pods[last]
		n.Pods[last] = nil
		n.Pods = n.Pods[:last]
		n.Requested.sub(pi.Requests)
		n.NonZeroMilliCPU -= pi.NonZeroMilliCPU
		n.NonZeroMemory -= pi.NonZeroMemory
		for _, p := range pi.Ports {
			if n.usedPorts[p]--; n.usedPorts[p] <= 0 {
				delete(n.usedPorts, p)
			}
		}
		if len(pi.RequiredAntiAffinity) > 0 {
			n.antiAffinityPods--
		}
		return pi
	}
	return nil
}

// clone copies the node's accounting so preemption can remove pods from
// the copy.
func (n *NodeInfo) clone() *NodeInfo {
	c := &NodeInfo{
		Node: n.Node, Allocatable: n.Allocatable, Requested: n.Requested.clone(),
		NonZeroMilliCPU: n.NonZeroMilliCPU, NonZeroMemory: n.NonZeroMemory,
		Pods:      append([]*PodInfo(nil), n.Pods...),
		Nominated: n.Nominated, usedPorts: make(map[hostPort]int, len(n.usedPorts)),
		antiAffinityPods: n.antiAffinityPods,
	}
	for p, k := range n.usedPorts {
		c.usedPorts[p] = k
	}
	return c
}

// Snapshot is the scheduler's view of nodes and the pods on them, changed
// incrementally by informer events and by assumed bindings. The scheduling
// cycle reads it under RLock; events write under Lock.
type Snapshot struct {
	mu    sync.RWMutex
	nodes map[string]*NodeInfo
	// list holds the nodes that have a Node object, in name order; rebuilt
	// only when a node is added or removed.
	list       []*NodeInfo
	pods       map[string]string // pod key -> node name
	assumed    map[string]bool
	nominated  map[string]string // pod key -> nominated node
	namespaces map[string]labels.Set
	// index finds placed pods by label and their anti-affinity terms by
	// the pods those could select.
	index      *podIndex
	imageNodes map[string]int // image name -> nodes having it
	// labelValues counts nodes by label: key -> value -> nodes, so the
	// domains of a topology key are known without walking the nodes.
	labelValues map[string]map[string]int
	priority    func(*corev1.Pod) int32
}

// NewSnapshot returns an empty snapshot. priority resolves a pod's
// priority (nil: spec.priority).
func NewSnapshot(priority func(*corev1.Pod) int32) *Snapshot {
	if priority == nil {
		priority = podPriority
	}
	return &Snapshot{
		nodes: map[string]*NodeInfo{}, pods: map[string]string{}, assumed: map[string]bool{},
		nominated: map[string]string{}, namespaces: map[string]labels.Set{},
		index: newPodIndex(), imageNodes: map[string]int{}, labelValues: map[string]map[string]int{}, priority: priority,
	}
}

// SetNode adds or replaces a node.
func (s *Snapshot) SetNode(node *corev1.Node) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.nodes[node.Name]
	if !ok {
		n = newNodeInfo()
		s.nodes[node.Name] = n
	}
	hadNode := n.Node != nil
	sameLabels := hadNode && maps.Equal(n.Node.Labels, node.Labels)
	if hadNode {
		s.countImages(n.Node, -1)
		if !sameLabels {
			s.countLabels(n.Node, -1)
		}
	}
	n.Node = node
	n.Allocatable = resourcesFromList(node.Status.Allocatable)
	s.countImages(node, 1)
	if !sameLabels {
		s.countLabels(node, 1)
	}
	if !hadNode {
		i, _ := s.listIndex(node.Name)
		s.list = slices.Insert(s.list, i, n)
	}
}

// RemoveNode forgets a node. Pods still bound to it keep a placeholder so
// their accounting stays right if the node comes back.
func (s *Snapshot) RemoveNode(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.nodes[name]
	if !ok || n.Node == nil {
		return
	}
	s.countImages(n.Node, -1)
	s.countLabels(n.Node, -1)
	if i, found := s.listIndex(name); found {
		s.list = slices.Delete(s.list, i, i+1)
	}
	n.Node = nil
	if len(n.Pods) == 0 {
		delete(s.nodes, name)
	}
}

func (s *Snapshot) countImages(node *corev1.Node, delta int) {
	for _, img := range node.Status.Images {
		for _, name := range img.Names {
			s.imageNodes[name] += delta
			if s.imageNodes[name] <= 0 {
				delete(s.imageNodes, name)
			}
		}
	}
}

func (s *Snapshot) countLabels(node *corev1.Node, delta int) {
	for k, v := range node.Labels {
		values := s.labelValues[k]
		if values == nil {
			values = map[string]int{}
			s.labelValues[k] = values
		}
		values[v] += delta
		if values[v] <= 0 {
			delete(values, v)
			if len(values) == 0 {
				delete(s.labelValues, k)
			}
		}
	}
}

// listIndex finds a node's place in the list, sorted by name: adding or
// removing one node costs a binary search and a copy, not a sort.
func (s *Snapshot) listIndex(name string) (int, bool) {
	return slices.BinarySearchFunc(s.list, name, func(n *NodeInfo, name string) int {
		return strings.Compare(n.Node.Name, name)
	})
}

// AddPod records a pod bound to a node (replacing an assumed copy).
// Pods that finished or have no node are ignored.
func (s *Snapshot) AddPod(pod *corev1.Pod) {
	if pod.Spec.NodeName == "" {
		return
	}
	pi := newPodInfo(pod, s.priority(pod))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removeLocked(pi.Key)
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return
	}
	s.placeLocked(pi, pod.Spec.NodeName)
}

// RemovePod forgets a pod.
func (s *Snapshot) RemovePod(pod *corev1.Pod) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removeLocked(podKey(pod))
	s.clearNominatedLocked(podKey(pod))
}

// Assume places a pod on a node before the binding is confirmed, so the
// next cycles see the room it takes.
func (s *Snapshot) Assume(pi *PodInfo, node string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removeLocked(pi.Key)
	s.clearNominatedLocked(pi.Key)
	s.placeLocked(pi, node)
	s.assumed[pi.Key] = true
}

// Forget undoes Assume after a failed binding. A pod the informer already
// confirmed is kept.
func (s *Snapshot) Forget(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.assumed[key] {
		s.removeLocked(key)
	}
}

// IsAssumed reports a pod assumed but not yet confirmed by the informer.
func (s *Snapshot) IsAssumed(key string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.assumed[key]
}

// Nominate reserves room on node for a pod that preempted others there.
func (s *Snapshot) Nominate(pi *PodInfo, node string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nominateLocked(pi, node)
}

func (s *Snapshot) nominateLocked(pi *PodInfo, node string) {
	s.clearNominatedLocked(pi.Key)
	n, ok := s.nodes[node]
	if !ok {
		return
	}
	n.Nominated = append(append([]*PodInfo(nil), n.Nominated...), pi)
	s.nominated[pi.Key] = node
}

// NominateOver is Nominate after a preemption: pods of lower priority
// nominated to the same node lose their nomination there, as in
// Kubernetes, since the room they counted on now goes to pi. It returns
// them so their status can be cleared too.
func (s *Snapshot) NominateOver(pi *PodInfo, node string) []*PodInfo {
	s.mu.Lock()
	var displaced []*PodInfo
	if n, ok := s.nodes[node]; ok {
		for _, other := range n.Nominated {
			if other.Key != pi.Key && other.Priority < pi.Priority {
				displaced = append(displaced, other)
			}
		}
	}
	for _, other := range displaced {
		s.clearNominatedLocked(other.Key)
	}
	s.nominateLocked(pi, node)
	s.mu.Unlock()
	return displaced
}

func (s *Snapshot) clearNominatedLocked(key string) {
	node, ok := s.nominated[key]
	if !ok {
		return
	}
	delete(s.nominated, key)
	n := s.nodes[node]
	if n == nil {
		return
	}
	kept := make([]*PodInfo, 0, len(n.Nominated))
	for _, pi := range n.Nominated {
		if pi.Key != key {
			kept = append(kept, pi)
		}
	}
	n.Nominated = kept
}

// SetNamespace records a namespace's labels for namespaceSelector terms.
func (s *Snapshot) SetNamespace(ns *corev1.Namespace) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.namespaces[ns.Name] = labels.Set(ns.Labels)
}

// RemoveNamespace forgets a namespace.
func (s *Snapshot) RemoveNamespace(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.namespaces, name)
}

func (s *Snapshot) placeLocked(pi *PodInfo, node string) {
	n, ok := s.nodes[node]
	if !ok {
		n = newNodeInfo()
		s.nodes[node] = n
	}
	n.addPod(pi)
	s.pods[pi.Key] = node
	s.index.add(pi, n)
}

func (s *Snapshot) removeLocked(key string) {
	node, ok := s.pods[key]
	if !ok {
		return
	}
	delete(s.pods, key)
	delete(s.assumed, key)
	if n := s.nodes[node]; n != nil {
		if pi := n.removePod(key); pi != nil {
			s.index.remove(pi)
		}
		if n.Node == nil && len(n.Pods) == 0 {
			delete(s.nodes, node)
		}
	}
}

// NumNodes is the number of nodes with a Node object.
func (s *Snapshot) NumNodes() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.list)
}

// NodeOf returns the node a pod is placed on (bound or assumed).
func (s *Snapshot) NodeOf(key string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n, ok := s.pods[key]
	return n, ok
}
