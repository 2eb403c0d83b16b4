package scheduler

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
)

// resourcesFit checks requests (and the pod count) against what is left of
// the node's allocatable, counting pods nominated to the node with at least
// the pod's priority as already there.
type resourcesFit struct{ pod *PodInfo }

func (f *resourcesFit) Name() string { return "NodeResourcesFit" }

func (f *resourcesFit) SetPod(c *cycle) (bool, error) {
	f.pod = c.pod
	return true, nil
}

func (f *resourcesFit) Check(n *NodeInfo) *Failure {
	used, pods := n.Requested, int64(len(n.Pods))
	if len(n.Nominated) > 0 {
		used = used.clone()
		for _, p := range n.Nominated {
			if p.Key != f.pod.Key && p.Priority >= f.pod.Priority {
				used.add(p.Requests)
				pods++
			}
		}
	}
	return insufficient(f.pod.Requests, used, pods, n.Allocatable)
}

// insufficient lists every resource the request does not fit in.
func insufficient(req, used Resources, pods int64, alloc Resources) *Failure {
	var reasons []string
	if pods+1 > alloc.Pods {
		reasons = append(reasons, reasonTooManyPods)
	}
	check := func(name string, want, have, capacity int64) {
		if want > 0 && want > capacity-have {
			reasons = append(reasons, fmt.Sprintf(insufficientReasonText, name))
		}
	}
	check(string(corev1.ResourceCPU), req.MilliCPU, used.MilliCPU, alloc.MilliCPU)
	check(string(corev1.ResourceMemory), req.Memory, used.Memory, alloc.Memory)
	check(string(corev1.ResourceEphemeralStorage), req.EphemeralStorage, used.EphemeralStorage, alloc.EphemeralStorage)
	if len(req.Scalar) > 0 {
		names := make([]string, 0, len(req.Scalar))
		for name := range req.Scalar {
			names = append(names, string(name))
		}
		sort.Strings(names)
		for _, name := range names {
			rn := corev1.ResourceName(name)
			check(name, req.Scalar[rn], used.Scalar[rn], alloc.Scalar[rn])
		}
	}
	if len(reasons) == 0 {
		return nil
	}
	return &Failure{Reasons: reasons}
}

// nodePorts rejects nodes where a requested host port is taken: same
// protocol and port, and the same IP or a wildcard on either side.
type nodePorts struct{ ports []hostPort }

func (f *nodePorts) Name() string { return "NodePorts" }

func (f *nodePorts) SetPod(c *cycle) (bool, error) {
	f.ports = c.pod.Ports
	return len(f.ports) > 0, nil
}

func (f *nodePorts) Check(n *NodeInfo) *Failure {
	if portsConflict(f.ports, n.usedPorts) {
		return fail(reasonNodePorts)
	}
	return nil
}

func portsConflict(want []hostPort, used map[hostPort]int) bool {
	if len(used) == 0 {
		return false
	}
	for _, p := range want {
		if p.IP == "0.0.0.0" {
			for u := range used {
				if u.Port == p.Port && u.Protocol == p.Protocol {
					return true
				}
			}
			continue
		}
		if used[p] > 0 || used[hostPort{IP: "0.0.0.0", Protocol: p.Protocol, Port: p.Port}] > 0 {
			return true
		}
	}
	return false
}
