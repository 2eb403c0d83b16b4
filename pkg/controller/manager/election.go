package manager

import (
	"context"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// The Lease the managers of one cluster compete for.
const (
	LeaseName      = "tug-controller-manager"
	LeaseNamespace = metav1.NamespaceSystem
)

// Election holds the leader election timings.
type Election struct {
	// LeaseDuration is how long followers wait after the last renewal
	// before taking over.
	LeaseDuration time.Duration
	// RenewDeadline is how long the leader keeps trying to renew before it
	// gives up leadership.
	RenewDeadline time.Duration
	// RetryPeriod is the wait between attempts to acquire or renew.
	RetryPeriod time.Duration
}

// DefaultElection: 15 s lease, 10 s renew deadline, 2 s retry, as the
// Kubernetes controller manager.
var DefaultElection = Election{LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second}

// campaign runs lead whenever this manager holds the Lease, until ctx ends.
//
// The first attempt to acquire is made at once, and a manager that stops
// cleanly releases the Lease, so a single server (also one restarted)
// leads immediately; only after a crash does a restarted server wait up to
// LeaseDuration for the old holder's Lease to expire.
//
// The Lease is released only after lead has returned, so the next leader
// never overlaps with controllers that are still stopping.
func (m *Manager) campaign(ctx context.Context, lead func(context.Context) error) error {
	for {
		err := m.term(ctx, lead)
		if err != nil || ctx.Err() != nil {
			return err
		}
		m.log.Warn("lost leadership, campaigning again", "identity", m.identity)
	}
}

// term campaigns once: it returns after a leadership term ended, or when
// ctx ends before this manager became leader.
func (m *Manager) term(ctx context.Context, lead func(context.Context) error) error {
	// The elector's context outlives ctx while leading, so the Lease is
	// released only once the controllers stopped.
	electCtx, stopElect := context.WithCancel(context.WithoutCancel(ctx))
	defer stopElect()
	leading := make(chan struct{})
	var mu sync.Mutex
	ended := false
	leadDone := make(chan error, 1)
	stopWaiting := context.AfterFunc(ctx, func() {
		select {
		case <-leading: // lead stops on ctx and then ends the election
		default:
			stopElect()
		}
	})
	defer stopWaiting()

	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: LeaseNamespace, Name: LeaseName},
		Client:     m.client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: m.identity},
	}
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		Name:            LeaseName,
		LeaseDuration:   m.election.LeaseDuration,
		RenewDeadline:   m.election.RenewDeadline,
		RetryPeriod:     m.election.RetryPeriod,
		ReleaseOnCancel: true,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(leaseCtx context.Context) {
				mu.Lock()
				if ended { // Run returned before this callback started
					mu.Unlock()
					return
				}
				close(leading)
				mu.Unlock()
				m.log.Info("became leader, starting controllers", "identity", m.identity)
				runCtx, cancel := context.WithCancel(leaseCtx)
				stop := context.AfterFunc(ctx, cancel)
				err := lead(runCtx)
				stop()
				cancel()
				leadDone <- err
				stopElect()
			},
			OnStoppedLeading: func() {
				m.log.Info("stopped leading", "identity", m.identity)
			},
		},
	})
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	elector.Run(electCtx)
	mu.Lock()
	ended = true
	mu.Unlock()
	select {
	case <-leading:
		return <-leadDone
	default:
		return nil
	}
}
