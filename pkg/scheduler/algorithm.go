package scheduler

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
)

// Adaptive share of nodes to find feasible before scoring, as in
// Kubernetes: 50% of 100 nodes, one point less per 125 nodes, at least 5%,
// and never fewer than 100 nodes.
const (
	minFeasibleNodesToFind           = 100
	minFeasibleNodesPercentageToFind = 5
)

// algorithm filters and scores nodes of a snapshot for one pod at a time.
// It is used by one goroutine; the parallelism is inside.
type algorithm struct {
	snap        *Snapshot
	filters     *pipeline
	scorers     []Scorer
	parallelism int
	// percentage of nodes to score; 0 means adaptive.
	percentage int
	nextStart  int
	rand       *rand.Rand
}

func newAlgorithm(snap *Snapshot, volumes VolumeLister, mostAllocated bool, percentage int) *algorithm {
	return &algorithm{
		snap: snap,
		filters: newPipeline(
			&nodeUnschedulable{}, &nodeName{}, &taintToleration{}, &nodeAffinity{}, &nodePorts{},
			&resourcesFit{}, &volumeBinding{lister: volumes}, &topologySpread{}, &interPodAffinity{},
		),
		scorers: []Scorer{
			&allocationScore{most: mostAllocated}, &balancedScore{}, &imageLocalityScore{},
			&nodeAffinityScore{}, &taintScore{}, &ownerSpreadScore{}, &spreadScore{}, &podAffinityScore{},
		},
		parallelism: runtime.GOMAXPROCS(0),
		percentage:  percentage,
		rand:        rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
	}
}

// result is the outcome of one scheduling cycle.
type result struct {
	node      string
	numNodes  int
	evaluated int
	feasible  int
	// failures holds why each evaluated node failed (when no node fit).
	failures map[string]*Failure
	podErr   error
	volumes  *volumePlan
}

// numFeasibleNodesToFind is how many feasible nodes are enough to stop
// filtering and start scoring.
func (a *algorithm) numFeasibleNodesToFind(numNodes int) int {
	if numNodes < minFeasibleNodesToFind {
		return numNodes
	}
	pct := a.percentage
	if pct <= 0 {
		pct = max(50-numNodes/125, minFeasibleNodesPercentageToFind)
	}
	if pct >= 100 {
		return numNodes
	}
	return max(numNodes*pct/100, minFeasibleNodesToFind)
}

// schedule picks a node for pi. The caller must not hold the snapshot lock.
func (a *algorithm) schedule(pi *PodInfo) result {
	a.snap.mu.RLock()
	defer a.snap.mu.RUnlock()
	nodes := a.snap.list
	res := result{numNodes: len(nodes)}
	c := &cycle{pod: pi, snap: a.snap}
	if len(nodes) == 0 {
		return res
	}
	if err := a.filters.setPod(c); err != nil {
		res.podErr = err
		return res
	}
	res.volumes = c.volumes
	feasible, failures, evaluated := a.findFeasible(nodes)
	res.evaluated, res.feasible = evaluated, len(feasible)
	if len(feasible) == 0 {
		res.failures = failures
		return res
	}
	res.node = a.selectNode(c, feasible)
	return res
}

const (
	unchecked uint8 = iota
	fits
	failed
)

// findFeasible checks nodes in parallel chunks, starting where the last
// cycle stopped, until enough feasible nodes are found.
func (a *algorithm) findFeasible(nodes []*NodeInfo) ([]*NodeInfo, map[string]*Failure, int) {
	n := len(nodes)
	want := a.numFeasibleNodesToFind(n)
	start := a.nextStart % n
	states := make([]uint8, n)
	reasons := make([]*Failure, n)
	var found atomic.Int64
	check := func(i int) {
		if found.Load() >= int64(want) {
			return
		}
		node := nodes[(start+i)%n]
		if f := a.filters.check(node); f != nil {
			states[i], reasons[i] = failed, f
			return
		}
		states[i] = fits
		found.Add(1)
	}
	a.parallelize(n, check)
	var feasible []*NodeInfo
	var failures map[string]*Failure
	evaluated := 0
	for i := 0; i < n; i++ {
		switch states[i] {
		case fits:
			evaluated = i + 1
			feasible = append(feasible, nodes[(start+i)%n])
		case failed:
			evaluated = i + 1
		}
	}
	if len(feasible) == 0 {
		failures = make(map[string]*Failure, n)
		for i := 0; i < n; i++ {
			if reasons[i] != nil {
				failures[nodes[(start+i)%n].Node.Name] = reasons[i]
			}
		}
	}
	a.nextStart = (start + evaluated) % n
	return feasible, failures, evaluated
}

// parallelize runs fn for 0..n-1 on up to parallelism goroutines, handing
// out chunks in order so early stopping keeps the checked nodes contiguous.
func (a *algorithm) parallelize(n int, fn func(i int)) {
	workers := a.parallelism
	if n < 64 || workers <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	chunk := max(1, min(64, n/(workers*4)))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(int64(chunk))) - chunk
				if lo >= n {
					return
				}
				for i := lo; i < min(lo+chunk, n); i++ {
					fn(i)
				}
			}
		}()
	}
	wg.Wait()
}

// selectNode scores the feasible nodes and returns the best one, breaking
// ties at random.
func (a *algorithm) selectNode(c *cycle, feasible []*NodeInfo) string {
	if len(feasible) == 1 {
		return feasible[0].Node.Name
	}
	total := a.score(c, feasible)
	best, ties := 0, 0
	for i := range total {
		switch {
		case total[i] > total[best]:
			best, ties = i, 1
		case total[i] == total[best]:
			ties++
			if a.rand.IntN(ties) == 0 {
				best = i
			}
		}
	}
	return feasible[best].Node.Name
}

// score returns the weighted sum of normalized scores per feasible node.
func (a *algorithm) score(c *cycle, feasible []*NodeInfo) []int64 {
	total := make([]int64, len(feasible))
	raw := make([]int64, len(feasible))
	for _, s := range a.scorers {
		if !s.SetPod(c, feasible) {
			continue
		}
		a.parallelize(len(feasible), func(i int) { raw[i] = s.Score(feasible[i]) })
		s.Normalize(raw)
		for i := range raw {
			total[i] += s.Weight() * raw[i]
		}
	}
	return total
}
