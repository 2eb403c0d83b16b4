package scheduler

import (
	"context"

	"github.com/tugcluster/tug/pkg/controller"
)

// Controller builds the scheduler as one of the controller manager's
// controllers, so it runs under the manager's Lease and shares its
// informers. Use it instead of WithLeaderElection when a manager runs in
// the same process.
func Controller(opts ...Option) controller.Constructor {
	return func(cc *controller.Context) (controller.Controller, error) {
		all := append([]Option{WithLogger(cc.Log)}, opts...)
		if cc.Events != nil {
			all = append(all, WithEventRecorder(cc.Events(DefaultSchedulerName)))
		}
		s, err := New(cc.Client, cc.Informers, all...)
		if err != nil {
			return nil, err
		}
		return managed{s}, nil
	}
}

type managed struct{ s *Scheduler }

func (m managed) Name() string { return "scheduler" }

func (m managed) Run(ctx context.Context, _ int) error { return m.s.Run(ctx) }
