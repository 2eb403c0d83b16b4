package scheduler

import "math"

// allocationScore favours nodes by how much CPU and memory would be used
// with the pod: least allocated spreads (the default), most allocated packs
// (Swarm's binpack).
type allocationScore struct {
	noNormalize
	most bool
	pod  *PodInfo
}

func (s *allocationScore) Name() string {
	if s.most {
		return "MostAllocated"
	}
	return "LeastAllocated"
}

func (s *allocationScore) Weight() int64 { return 1 }

func (s *allocationScore) SetPod(c *cycle, _ []*NodeInfo) bool {
	s.pod = c.pod
	return true
}

func (s *allocationScore) Score(n *NodeInfo) int64 {
	cpu := fraction(n.NonZeroMilliCPU+s.pod.NonZeroMilliCPU, n.Allocatable.MilliCPU)
	mem := fraction(n.NonZeroMemory+s.pod.NonZeroMemory, n.Allocatable.Memory)
	used := (cpu + mem) / 2
	if s.most {
		return int64(used * float64(maxScore))
	}
	return int64((1 - used) * float64(maxScore))
}

// fraction is requested/allocatable capped to [0, 1].
func fraction(requested, allocatable int64) float64 {
	if allocatable <= 0 {
		return 1
	}
	return math.Min(1, float64(requested)/float64(allocatable))
}

// balancedScore favours nodes whose CPU and memory use stay close to each
// other once the pod is placed: 100 × (1 − standard deviation).
type balancedScore struct {
	noNormalize
	pod *PodInfo
}

func (s *balancedScore) Name() string  { return "NodeResourcesBalancedAllocation" }
func (s *balancedScore) Weight() int64 { return 1 }

func (s *balancedScore) SetPod(c *cycle, _ []*NodeInfo) bool {
	s.pod = c.pod
	return true
}

func (s *balancedScore) Score(n *NodeInfo) int64 {
	cpu := fraction(n.NonZeroMilliCPU+s.pod.NonZeroMilliCPU, n.Allocatable.MilliCPU)
	mem := fraction(n.NonZeroMemory+s.pod.NonZeroMemory, n.Allocatable.Memory)
	std := math.Abs(cpu-mem) / 2
	return int64((1 - std) * float64(maxScore))
}

// imageLocalityScore favours nodes that already have the pod's images,
// weighted by how widely each image is spread (a rare image counts less,
// so pods do not pile up on the one node that has it).
type imageLocalityScore struct {
	noNormalize
	images   []string
	spread   map[string]float64
	numNodes int
}

// Thresholds of summed image sizes, as in Kubernetes: below 23 MB nothing
// counts; 1000 MB per container scores 100.
const (
	imageMinThreshold int64 = 23 * 1024 * 1024
	imageMaxThreshold int64 = 1000 * 1024 * 1024
)

func (s *imageLocalityScore) Name() string  { return "ImageLocality" }
func (s *imageLocalityScore) Weight() int64 { return 1 }

func (s *imageLocalityScore) SetPod(c *cycle, _ []*NodeInfo) bool {
	s.images = s.images[:0]
	for _, ct := range c.pod.Pod.Spec.Containers {
		s.images = append(s.images, normalizedImage(ct.Image))
	}
	s.numNodes = len(c.snap.list)
	s.spread = map[string]float64{}
	for _, img := range s.images {
		if s.numNodes > 0 {
			s.spread[img] = float64(c.snap.imageNodes[img]) / float64(s.numNodes)
		}
	}
	return len(s.images) > 0 && len(c.snap.imageNodes) > 0
}

func (s *imageLocalityScore) Score(n *NodeInfo) int64 {
	var sum int64
	for _, img := range s.images {
		for _, have := range n.Node.Status.Images {
			if containsImage(have.Names, img) {
				sum += int64(float64(have.SizeBytes) * s.spread[img])
				break
			}
		}
	}
	hi := imageMaxThreshold * int64(len(s.images))
	sum = min(max(sum, imageMinThreshold), hi)
	return maxScore * (sum - imageMinThreshold) / (hi - imageMinThreshold)
}

func containsImage(names []string, img string) bool {
	for _, n := range names {
		if n == img || normalizedImage(n) == img {
			return true
		}
	}
	return false
}

// normalizedImage adds the ":latest" tag to untagged, undigested names, the
// way nodes report them.
func normalizedImage(name string) string {
	for i := len(name) - 1; i >= 0; i-- {
		switch name[i] {
		case '@', ':':
			return name
		case '/':
			return name + ":latest"
		}
	}
	return name + ":latest"
}
