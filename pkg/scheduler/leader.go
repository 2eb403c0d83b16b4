package scheduler

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// LeaseConfig names the Lease the scheduler holds while it schedules.
type LeaseConfig struct {
	Namespace string // default kube-system
	Name      string // default tug-scheduler
	Identity  string // default hostname + random suffix
	// LeaseDuration, RenewDeadline, RetryPeriod default to 15 s, 10 s, 2 s.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
}

// ErrLostLease is returned by Run when the scheduler loses its Lease.
var ErrLostLease = errors.New("scheduler lost its leader lease")

// runElected runs fn while holding the Lease; it returns when ctx ends
// (nil) or the Lease is lost (ErrLostLease).
func runElected(ctx context.Context, client kubernetes.Interface, cfg LeaseConfig, fn func(ctx context.Context) error) error {
	if cfg.Namespace == "" {
		cfg.Namespace = metav1.NamespaceSystem
	}
	if cfg.Name == "" {
		cfg.Name = "tug-scheduler"
	}
	if cfg.Identity == "" {
		host, _ := os.Hostname()
		cfg.Identity = fmt.Sprintf("%s_%d", host, time.Now().UnixNano())
	}
	if cfg.LeaseDuration == 0 {
		cfg.LeaseDuration, cfg.RenewDeadline, cfg.RetryPeriod = 15*time.Second, 10*time.Second, 2*time.Second
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: cfg.Namespace, Name: cfg.Name},
		Client:     client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: cfg.Identity},
	}
	runErr := make(chan error, 1)
	var mu sync.Mutex
	stopped, running := false, false
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: lock, LeaseDuration: cfg.LeaseDuration, RenewDeadline: cfg.RenewDeadline, RetryPeriod: cfg.RetryPeriod,
		ReleaseOnCancel: true, Name: cfg.Name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) {
				mu.Lock()
				if stopped {
					mu.Unlock()
					return
				}
				running = true
				mu.Unlock()
				runErr <- fn(ctx)
			},
			OnStoppedLeading: func() {},
		},
	})
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	le.Run(ctx)
	mu.Lock()
	stopped = true
	led := running
	mu.Unlock()
	if !led {
		return nil // ctx ended before we led
	}
	if err := <-runErr; err != nil {
		return err
	}
	if ctx.Err() == nil {
		return ErrLostLease
	}
	return nil
}
