package scheduler

import (
	corev1 "k8s.io/api/core/v1"
)

// Default requests used by scores for containers that request nothing, so
// that many "empty" pods still spread (the same defaults as Kubernetes).
const (
	defaultMilliCPURequest int64 = 100               // 0.1 core
	defaultMemoryRequest   int64 = 200 * 1024 * 1024 // 200 MiB
)

// Resources is an amount of node resources. Scalar holds extended resources
// (example.com/gpu, hugepages-*) by name.
type Resources struct {
	MilliCPU         int64
	Memory           int64
	EphemeralStorage int64
	Pods             int64
	Scalar           map[corev1.ResourceName]int64
}

// add adds o to r.
func (r *Resources) add(o Resources) {
	r.MilliCPU += o.MilliCPU
	r.Memory += o.Memory
	r.EphemeralStorage += o.EphemeralStorage
	r.Pods += o.Pods
	for name, v := range o.Scalar {
		r.setScalar(name, r.Scalar[name]+v)
	}
}

// sub subtracts o from r.
func (r *Resources) sub(o Resources) {
	r.MilliCPU -= o.MilliCPU
	r.Memory -= o.Memory
	r.EphemeralStorage -= o.EphemeralStorage
	r.Pods -= o.Pods
	for name, v := range o.Scalar {
		r.setScalar(name, r.Scalar[name]-v)
	}
}

func (r *Resources) setScalar(name corev1.ResourceName, v int64) {
	if r.Scalar == nil {
		r.Scalar = map[corev1.ResourceName]int64{}
	}
	r.Scalar[name] = v
}

// max raises each amount of r to at least o's.
func (r *Resources) max(o Resources) {
	r.MilliCPU = max(r.MilliCPU, o.MilliCPU)
	r.Memory = max(r.Memory, o.Memory)
	r.EphemeralStorage = max(r.EphemeralStorage, o.EphemeralStorage)
	for name, v := range o.Scalar {
		if v > r.Scalar[name] {
			r.setScalar(name, v)
		}
	}
}

func (r Resources) clone() Resources {
	c := r
	c.Scalar = nil
	for name, v := range r.Scalar {
		c.setScalar(name, v)
	}
	return c
}

// resourcesFromList converts a ResourceList.
func resourcesFromList(list corev1.ResourceList) Resources {
	var r Resources
	for name, q := range list {
		switch name {
		case corev1.ResourceCPU:
			r.MilliCPU = q.MilliValue()
		case corev1.ResourceMemory:
			r.Memory = q.Value()
		case corev1.ResourceEphemeralStorage:
			r.EphemeralStorage = q.Value()
		case corev1.ResourcePods:
			r.Pods = q.Value()
		default:
			if isScalarResource(name) {
				r.setScalar(name, q.Value())
			}
		}
	}
	return r
}

// isScalarResource reports resources counted like extended resources:
// names with a domain (example.com/gpu), hugepages and attachable volumes.
func isScalarResource(name corev1.ResourceName) bool {
	s := string(name)
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return true
		}
	}
	return len(s) > 10 && s[:10] == "hugepages-"
}

// podRequests is what a pod reserves on a node, following Kubernetes: the
// larger of (sum of app containers + restartable init containers) and, for
// each classic init container, its request plus the sidecars started before
// it; plus the pod overhead. Pods is always 1.
func podRequests(pod *corev1.Pod) Resources {
	var apps Resources
	for i := range pod.Spec.Containers {
		apps.add(resourcesFromList(pod.Spec.Containers[i].Resources.Requests))
	}
	var sidecars, initMax Resources
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		req := resourcesFromList(c.Resources.Requests)
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars.add(req)
			initMax.max(sidecars)
			continue
		}
		withSidecars := sidecars.clone()
		withSidecars.add(req)
		initMax.max(withSidecars)
	}
	total := apps
	total.add(sidecars)
	total.max(initMax)
	total.add(resourcesFromList(pod.Spec.Overhead))
	total.Pods = 1
	return total
}

// nonZeroRequests is the CPU and memory a score counts for a pod: a
// container asking for nothing counts as the defaults.
func nonZeroRequests(pod *corev1.Pod) (milliCPU, memory int64) {
	count := func(c *corev1.Container) (int64, int64) {
		cpu, mem := defaultMilliCPURequest, defaultMemoryRequest
		if q, ok := c.Resources.Requests[corev1.ResourceCPU]; ok {
			cpu = q.MilliValue()
		}
		if q, ok := c.Resources.Requests[corev1.ResourceMemory]; ok {
			mem = q.Value()
		}
		return cpu, mem
	}
	for i := range pod.Spec.Containers {
		c, m := count(&pod.Spec.Containers[i])
		milliCPU += c
		memory += m
	}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			cc, m := count(c)
			milliCPU += cc
			memory += m
		}
	}
	if q, ok := pod.Spec.Overhead[corev1.ResourceCPU]; ok {
		milliCPU += q.MilliValue()
	}
	if q, ok := pod.Spec.Overhead[corev1.ResourceMemory]; ok {
		memory += q.Value()
	}
	return milliCPU, memory
}
