package nodeipam

import (
	"errors"
	"net/netip"
	"testing"
)

func TestCIDRSetAllocatesDistinctRangesUntilFull(t *testing.T) {
	s, err := newCIDRSet(netip.MustParsePrefix("10.42.0.0/16"), 24)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[netip.Prefix]bool{}
	for range 256 {
		p, err := s.allocate()
		if err != nil {
			t.Fatalf("after %d: %v", len(seen), err)
		}
		if seen[p] || p.Bits() != 24 || !netip.MustParsePrefix("10.42.0.0/16").Contains(p.Addr()) {
			t.Fatalf("bad or repeated range %s", p)
		}
		seen[p] = true
	}
	if _, err := s.allocate(); !errors.Is(err, ErrFull) {
		t.Fatalf("257th allocation: %v, want ErrFull", err)
	}
	if err := s.release(netip.MustParsePrefix("10.42.7.0/24")); err != nil {
		t.Fatal(err)
	}
	if p, err := s.allocate(); err != nil || p != netip.MustParsePrefix("10.42.7.0/24") {
		t.Fatalf("after release: %s %v, want 10.42.7.0/24", p, err)
	}
}

func TestCIDRSetRebuildSkipsOccupied(t *testing.T) {
	s, err := newCIDRSet(netip.MustParsePrefix("10.42.0.0/16"), 26)
	if err != nil {
		t.Fatal(err)
	}
	if s.count != 1024 {
		t.Fatalf("/16 into /26: %d ranges, want 1024", s.count)
	}
	for _, p := range []string{"10.42.0.0/26", "10.42.0.64/26"} {
		if err := s.occupy(netip.MustParsePrefix(p)); err != nil {
			t.Fatal(err)
		}
	}
	if p, _ := s.allocate(); p != netip.MustParsePrefix("10.42.0.128/26") {
		t.Fatalf("first free = %s, want 10.42.0.128/26", p)
	}
	for _, bad := range []string{"10.43.0.0/26", "10.42.0.0/24", "10.42.0.1/26"} {
		if err := s.occupy(netip.MustParsePrefix(bad)); err == nil {
			t.Errorf("occupy %s: no error", bad)
		}
	}
}

func TestCIDRSetIPv6AndLimits(t *testing.T) {
	s, err := newCIDRSet(netip.MustParsePrefix("fd00:42::/56"), 64)
	if err != nil {
		t.Fatal(err)
	}
	s.allocate()
	if p, _ := s.allocate(); p != netip.MustParsePrefix("fd00:42:0:1::/64") {
		t.Fatalf("second v6 range = %s", p)
	}
	if _, err := newCIDRSet(netip.MustParsePrefix("10.0.0.0/8"), 30); err == nil {
		t.Error("2^22 ranges accepted")
	}
	if _, err := newCIDRSet(netip.MustParsePrefix("10.42.0.0/16"), 8); err == nil {
		t.Error("mask shorter than the pool accepted")
	}
}
