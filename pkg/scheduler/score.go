package scheduler

// maxScore is the top of every normalized score.
const maxScore int64 = 100

// Scorer ranks feasible nodes. Score gives a raw value per node (it must
// only read: nodes are scored in parallel); Normalize maps the raw values
// of all feasible nodes to 0..100 in place. The final score of a node is
// the weighted sum of its normalized scores.
type Scorer interface {
	Name() string
	Weight() int64
	// SetPod prepares for c.pod over the feasible nodes; false skips the
	// scorer for this pod.
	SetPod(c *cycle, feasible []*NodeInfo) bool
	Score(n *NodeInfo) int64
	Normalize(scores []int64)
}

// normalizeToMax scales raw scores so the highest becomes 100; with
// reverse, the lowest raw value gets 100 instead.
func normalizeToMax(scores []int64, reverse bool) {
	var hi int64
	for _, s := range scores {
		hi = max(hi, s)
	}
	for i, s := range scores {
		switch {
		case hi == 0 && reverse:
			scores[i] = maxScore
		case hi == 0:
			scores[i] = 0
		case reverse:
			scores[i] = maxScore - s*maxScore/hi
		default:
			scores[i] = s * maxScore / hi
		}
	}
}

// normalizeMinMax maps the lowest raw value to 0 and the highest to 100
// (all 0 when every value is the same); raw values may be negative.
func normalizeMinMax(scores []int64, reverse bool) {
	if len(scores) == 0 {
		return
	}
	lo, hi := scores[0], scores[0]
	for _, s := range scores {
		lo, hi = min(lo, s), max(hi, s)
	}
	for i, s := range scores {
		if hi == lo {
			scores[i] = 0
			if reverse {
				scores[i] = maxScore
			}
			continue
		}
		v := (s - lo) * maxScore / (hi - lo)
		if reverse {
			v = maxScore - v
		}
		scores[i] = v
	}
}

// noNormalize is for scorers whose raw values are already 0..100.
type noNormalize struct{}

func (noNormalize) Normalize([]int64) {}
