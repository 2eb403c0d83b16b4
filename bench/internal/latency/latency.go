package latency

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Sample is a set of observed durations; Add is safe for concurrent use.
type Sample struct {
	mu sync.Mutex
	d  []time.Duration
}

// Add records one observation.
func (s *Sample) Add(d time.Duration) {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
}

// Len is the number of observations.
func (s *Sample) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.d)
}

// Quantile returns the nearest-rank q-quantile (0 < q <= 1) of the
// observations, or 0 when there are none.
func (s *Sample) Quantile(q float64) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.d) == 0 {
		return 0
	}
	if !slices.IsSorted(s.d) {
		slices.Sort(s.d)
	}
	rank := int(q*float64(len(s.d))+0.999999999) - 1
	rank = max(0, min(rank, len(s.d)-1))
	return s.d[rank]
}

// Max is the largest observation.
func (s *Sample) Max() time.Duration { return s.Quantile(1) }

// Ms expresses d in milliseconds, for reports.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Result summarises one Run.
type Result struct {
	Latency *Sample
	// Ops is how many operations succeeded; Elapsed the wall time of the
	// whole run.
	Ops     int
	Elapsed time.Duration
}

// PerSecond is the achieved throughput.
func (r Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Elapsed.Seconds()
}

// Op performs operation i on behalf of worker w.
type Op func(ctx context.Context, w, i int) error

// Run performs operations 0..n-1, handing them out to `workers` goroutines
// (worker w only ever runs its own ops one after another), and times each.
// It stops at the first error, or when ctx ends, and returns that error
// with what was done so far.
func Run(ctx context.Context, n, workers int, op Op) (Result, error) {
	if workers < 1 {
		return Result{}, fmt.Errorf("latency: %d workers", workers)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := Result{Latency: &Sample{d: make([]time.Duration, 0, n)}}
	var (
		next    atomic.Int64
		done    atomic.Int64
		errOnce sync.Once
		first   error
		wg      sync.WaitGroup
	)
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t0 := time.Now()
				if err := op(ctx, w, i); err != nil {
					errOnce.Do(func() { first = fmt.Errorf("op %d: %w", i, err); cancel() })
					return
				}
				res.Latency.Add(time.Since(t0))
				done.Add(1)
			}
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Ops = int(done.Load())
	if first == nil && ctx.Err() != nil && res.Ops < n {
		first = fmt.Errorf("after %d of %d ops: %w", res.Ops, n, ctx.Err())
	}
	return res, first
}
