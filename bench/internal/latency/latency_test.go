package latency

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestQuantileIsNearestRank(t *testing.T) {
	var s Sample
	for i := 100; i >= 1; i-- {
		s.Add(time.Duration(i) * time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0.001, time.Millisecond}} {
		if got := s.Quantile(c.q); got != c.want {
			t.Errorf("Quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	var empty Sample
	if got := empty.Quantile(0.5); got != 0 {
		t.Errorf("empty Quantile = %v, want 0", got)
	}
}

func TestRunDoesEveryOpOnceAndTimesIt(t *testing.T) {
	const n = 200
	var seen [n]atomic.Int32
	res, err := Run(context.Background(), n, 8, func(_ context.Context, _, i int) error {
		seen[i].Add(1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range seen {
		if c := seen[i].Load(); c != 1 {
			t.Errorf("op %d ran %d times", i, c)
		}
	}
	if res.Ops != n || res.Latency.Len() != n {
		t.Errorf("Ops = %d, samples = %d, want %d", res.Ops, res.Latency.Len(), n)
	}
}

func TestRunStopsAtFirstError(t *testing.T) {
	boom := errors.New("boom")
	var ran atomic.Int32
	res, err := Run(context.Background(), 1000, 1, func(_ context.Context, _, i int) error {
		ran.Add(1)
		if i == 10 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if res.Ops != 10 || ran.Load() != 11 {
		t.Errorf("Ops = %d, ran = %d, want 10 and 11", res.Ops, ran.Load())
	}
}
