package scheduler

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// The node list stays sorted by name through adds, updates and removals
// in any order.
func TestSnapshotNodeListOrder(t *testing.T) {
	s := NewSnapshot(nil)
	names := make([]string, 200)
	for i := range names {
		names[i] = fmt.Sprintf("node-%03d", i)
	}
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	for _, n := range names {
		s.SetNode(node(n, "4", "8Gi", 110, nil))
	}
	for _, n := range names[:50] {
		s.SetNode(node(n, "8", "8Gi", 110, nil)) // an update keeps one entry
		s.RemoveNode(names[len(names)-1-slices.Index(names, n)])
	}
	s.RemoveNode("no-such-node")
	want := slices.Clone(names[:150])
	slices.Sort(want)
	var got []string
	for _, n := range s.list {
		got = append(got, n.Node.Name)
	}
	if !slices.Equal(got, want) || s.NumNodes() != 150 {
		t.Fatalf("list = %v (%d nodes), want the 150 remaining nodes sorted", got, s.NumNodes())
	}
}
