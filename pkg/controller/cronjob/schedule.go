package cronjob

import (
	"time"

	batchv1 "k8s.io/api/batch/v1"

	"github.com/tugcluster/tug/pkg/cron"
)

// maxMissed is how many missed activations are tolerated before the
// TooManyMissedTimes warning.
const maxMissed = 100

// nextScheduleDelta is added to a wake-up so that it lands just past the
// activation, never a hair before it.
const nextScheduleDelta = 100 * time.Millisecond

// searchWindows are how far back mostRecent looks for the latest
// activation when many were missed: the first window holding one bounds
// the forward walk to about the schedule's own period.
var searchWindows = []time.Duration{time.Hour, 24 * time.Hour, 32 * 24 * time.Hour, 367 * 24 * time.Hour, 5 * 367 * 24 * time.Hour}

// earliestTime is where missed activations start: after the last
// scheduled run (or the CronJob's creation), but no earlier than
// startingDeadlineSeconds before now.
func earliestTime(cj *batchv1.CronJob, now time.Time) time.Time {
	earliest := cj.CreationTimestamp.Time
	if cj.Status.LastScheduleTime != nil {
		earliest = cj.Status.LastScheduleTime.Time
	}
	if d := cj.Spec.StartingDeadlineSeconds; d != nil {
		if floor := now.Add(-time.Duration(*d) * time.Second); floor.After(earliest) {
			earliest = floor
		}
	}
	return earliest
}

// mostRecent returns the latest activation in (earliest, now], the zero
// time when there is none, and whether more than maxMissed activations
// fell in that interval.
func mostRecent(s cron.Schedule, earliest, now time.Time) (time.Time, bool) {
	t := s.Next(earliest)
	if t.IsZero() || t.After(now) {
		return time.Time{}, false
	}
	last := t
	for n := 1; n <= maxMissed; n++ {
		next := s.Next(last)
		if next.IsZero() || next.After(now) {
			return last, false
		}
		last = next
	}
	// Many missed: find the latest by walking forward from a window just
	// before now that holds one activation.
	for _, w := range searchWindows {
		start := now.Add(-w)
		if !start.After(last) {
			break
		}
		first := s.Next(start)
		if first.IsZero() || first.After(now) {
			continue
		}
		return walk(s, first, now), true
	}
	return walk(s, last, now), true
}

// walk returns the last activation at or before now, starting from t.
func walk(s cron.Schedule, t, now time.Time) time.Time {
	for {
		next := s.Next(t)
		if next.IsZero() || next.After(now) {
			return t
		}
		t = next
	}
}

// wakeAfter is how long to wait from now until just past the next
// activation, or false when the schedule never fires again.
func wakeAfter(s cron.Schedule, now time.Time) (time.Duration, bool) {
	next := s.Next(now)
	if next.IsZero() {
		return 0, false
	}
	return next.Sub(now) + nextScheduleDelta, true
}
