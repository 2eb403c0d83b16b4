package job

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// indexSet is a set of completion indexes.
type indexSet map[int]bool

// parseIndexes reads the completedIndexes text format ("1,3-5,7"),
// keeping only indexes below completions; malformed parts are skipped.
func parseIndexes(s string, completions int) indexSet {
	out := indexSet{}
	if s == "" {
		return out
	}
	for part := range strings.SplitSeq(s, ",") {
		first, last, isRange := strings.Cut(part, "-")
		lo, err := strconv.Atoi(first)
		if err != nil {
			continue
		}
		hi := lo
		if isRange {
			if hi, err = strconv.Atoi(last); err != nil {
				continue
			}
		}
		for i := max(lo, 0); i <= hi && i < completions; i++ {
			out[i] = true
		}
	}
	return out
}

// String formats the set in increasing order, compressing runs of three
// or more consecutive indexes into "first-last", as Kubernetes does.
func (s indexSet) String() string {
	ix := s.sorted()
	var b strings.Builder
	for i := 0; i < len(ix); {
		j := i
		for j+1 < len(ix) && ix[j+1] == ix[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		switch j - i {
		case 0:
			fmt.Fprintf(&b, "%d", ix[i])
		case 1:
			fmt.Fprintf(&b, "%d,%d", ix[i], ix[j])
		default:
			fmt.Fprintf(&b, "%d-%d", ix[i], ix[j])
		}
		i = j + 1
	}
	return b.String()
}

func (s indexSet) sorted() []int {
	out := make([]int, 0, len(s))
	for i := range s {
		out = append(out, i)
	}
	slices.Sort(out)
	return out
}

// podIndex returns the completion index of a pod of an Indexed Job, from
// its annotation (or label), or -1 when it has none or it is malformed.
func podIndex(p *corev1.Pod) int {
	v, ok := p.Annotations[batchv1.JobCompletionIndexAnnotation]
	if !ok {
		v, ok = p.Labels[batchv1.JobCompletionIndexAnnotation]
	}
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// union returns a new set holding the indexes of all sets.
func union(sets ...indexSet) indexSet {
	out := indexSet{}
	for _, s := range sets {
		for ix := range s {
			out[ix] = true
		}
	}
	return out
}

// missingIndexes returns up to n indexes below completions that are
// neither completed nor running, lowest first.
func missingIndexes(completions int, completed, running indexSet, n int) []int {
	var out []int
	for i := 0; i < completions && len(out) < n; i++ {
		if !completed[i] && !running[i] {
			out = append(out, i)
		}
	}
	return out
}
