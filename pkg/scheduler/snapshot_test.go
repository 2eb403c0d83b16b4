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

// A preemptor's nomination displaces the lower-priority pods nominated to
// the same node, and only those.
func TestNominateOverDisplacesLowerPriority(t *testing.T) {
	s := NewSnapshot(nil)
	s.SetNode(node("a", "4", "8Gi", 110, nil))
	s.SetNode(node("b", "4", "8Gi", 110, nil))
	low, same, high, elsewhere := newPodInfo(pod("low", "1", "1Gi"), 10), newPodInfo(pod("same", "1", "1Gi"), 50),
		newPodInfo(pod("high", "1", "1Gi"), 100), newPodInfo(pod("elsewhere", "1", "1Gi"), 1)
	s.Nominate(low, "a")
	s.Nominate(same, "a")
	s.Nominate(high, "a")
	s.Nominate(elsewhere, "b")
	preemptor := newPodInfo(pod("preemptor", "1", "1Gi"), 50)
	displaced := s.NominateOver(preemptor, "a")
	if len(displaced) != 1 || displaced[0].Key != low.Key {
		t.Fatalf("displaced %v, want only the lower-priority pod on a", displaced)
	}
	var onA []string
	for _, pi := range s.nodes["a"].Nominated {
		onA = append(onA, pi.Pod.Name)
	}
	slices.Sort(onA)
	if !slices.Equal(onA, []string{"high", "preemptor", "same"}) || len(s.nodes["b"].Nominated) != 1 {
		t.Fatalf("nominated on a: %v, on b: %d", onA, len(s.nodes["b"].Nominated))
	}
	if _, ok := s.nominated[low.Key]; ok {
		t.Fatal("displaced pod still nominated")
	}
}
