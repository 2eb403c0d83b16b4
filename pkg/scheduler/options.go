package scheduler

import (
	"log/slog"
	"time"

	"k8s.io/client-go/tools/record"
)

// DefaultSchedulerName is the spec.schedulerName this scheduler serves
// unless told otherwise.
const DefaultSchedulerName = "default-scheduler"

type options struct {
	name            string
	mostAllocated   bool
	bindConcurrency int
	percentage      int
	initialBackoff  time.Duration
	maxBackoff      time.Duration
	logger          *slog.Logger
	recorder        record.EventRecorder
	binder          Binder
	lease           *LeaseConfig
}

// Option configures a Scheduler.
type Option func(*options)

// WithSchedulerName serves pods naming another scheduler.
func WithSchedulerName(name string) Option { return func(o *options) { o.name = name } }

// WithMostAllocated packs pods onto the fullest nodes that fit (Swarm's
// binpack) instead of spreading them over the emptiest.
func WithMostAllocated() Option { return func(o *options) { o.mostAllocated = true } }

// WithBindConcurrency bounds the bindings in flight (default 16).
func WithBindConcurrency(n int) Option { return func(o *options) { o.bindConcurrency = n } }

// WithPercentageOfNodesToScore fixes the share of nodes to find feasible
// before scoring (default adaptive: 50% at 100 nodes down to 5%).
func WithPercentageOfNodesToScore(p int) Option { return func(o *options) { o.percentage = p } }

// WithBackoff sets the retry back-off of failed pods (default 1 s to 10 s).
func WithBackoff(initial, maxBackoff time.Duration) Option {
	return func(o *options) { o.initialBackoff, o.maxBackoff = initial, maxBackoff }
}

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithEventRecorder records Events through r instead of the scheduler's
// own broadcaster.
func WithEventRecorder(r record.EventRecorder) Option { return func(o *options) { o.recorder = r } }

// WithBinder replaces binding through the API (benchmarks, tests).
func WithBinder(b Binder) Option { return func(o *options) { o.binder = b } }

// WithLeaderElection makes Run schedule only while holding the Lease.
func WithLeaderElection(cfg LeaseConfig) Option { return func(o *options) { o.lease = &cfg } }
