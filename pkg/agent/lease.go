package agent

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

type leaseState struct {
	lease *coordinationv1.Lease // last written; nil means read or create first
}

// renewLease writes the node's Lease with a fresh renewTime, creating it
// when missing. The Lease is owned by the Node, so deleting the Node
// removes it.
func (a *Agent) renewLease(ctx context.Context) error {
	leases := a.client.CoordinationV1().Leases(LeaseNamespace)
	now := metav1.NewMicroTime(a.now())
	l := a.node.lease.lease
	if l == nil {
		cur, err := leases.Get(ctx, a.opts.NodeName, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			created, err := leases.Create(ctx, a.newLease(now), metav1.CreateOptions{})
			if err != nil {
				return fmt.Errorf("create lease %s: %w", a.opts.NodeName, err)
			}
			a.node.lease.lease = created
			return nil
		case err != nil:
			return fmt.Errorf("get lease %s: %w", a.opts.NodeName, err)
		}
		l = cur
	}
	next := l.DeepCopy()
	next.Spec.HolderIdentity = ptr.To(a.opts.NodeName)
	next.Spec.LeaseDurationSeconds = ptr.To(int32(a.opts.LeaseDuration / time.Second))
	next.Spec.RenewTime = &now
	if len(next.OwnerReferences) == 0 {
		next.OwnerReferences = a.leaseOwner()
	}
	updated, err := leases.Update(ctx, next, metav1.UpdateOptions{})
	if err != nil {
		a.node.lease.lease = nil // read it again next time
		return fmt.Errorf("renew lease %s: %w", a.opts.NodeName, err)
	}
	a.node.lease.lease = updated
	return nil
}

func (a *Agent) newLease(now metav1.MicroTime) *coordinationv1.Lease {
	return &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: a.opts.NodeName, Namespace: LeaseNamespace, OwnerReferences: a.leaseOwner()},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       ptr.To(a.opts.NodeName),
			LeaseDurationSeconds: ptr.To(int32(a.opts.LeaseDuration / time.Second)),
			RenewTime:            &now,
		},
	}
}

func (a *Agent) leaseOwner() []metav1.OwnerReference {
	n := a.node.node
	if n == nil || n.UID == "" {
		return nil
	}
	return []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: n.Name, UID: n.UID}}
}

// heartbeat renews the Lease, posts node status and resyncs pods on
// their intervals until ctx ends. The first tick comes after a random
// part of the interval so that many agents started together spread out.
func (a *Agent) heartbeat(ctx context.Context) {
	if err := a.renewLease(ctx); err != nil && ctx.Err() == nil {
		a.opts.Logger.Warn("lease", "node", a.opts.NodeName, "err", err)
	}
	tick := min(a.opts.LeaseRenewInterval, a.opts.StatusCheckInterval)
	timer := time.NewTimer(time.Duration(rand.Int64N(int64(tick))) + time.Millisecond)
	defer timer.Stop()
	var lastLease, lastStatus, lastResync time.Time
	lastLease, lastStatus, lastResync = a.now(), a.now(), a.now()
	for {
		forceStatus := false
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-a.checkStatus:
			forceStatus = true
		}
		timer.Reset(tick)
		now := a.now()
		if now.Sub(lastLease) >= a.opts.LeaseRenewInterval-tick/10 {
			lastLease = now
			if err := a.renewLease(ctx); err != nil && ctx.Err() == nil {
				a.opts.Logger.Warn("lease", "node", a.opts.NodeName, "err", err)
			}
		}
		if forceStatus || now.Sub(lastStatus) >= a.opts.StatusCheckInterval-tick/10 {
			lastStatus = now
			if err := a.postStatus(ctx, false); err != nil && ctx.Err() == nil {
				a.opts.Logger.Warn("node status", "node", a.opts.NodeName, "err", err)
			}
		}
		if now.Sub(lastResync) >= a.opts.PodResyncInterval {
			lastResync = now
			a.resyncAll()
		}
	}
}

// CheckStatus has the node's status recomputed (and posted if it changed)
// now rather than at the next interval: a real node calls it when its
// health changed, e.g. once its pod network is set up.
func (a *Agent) CheckStatus() {
	select {
	case a.checkStatus <- struct{}{}:
	default:
	}
}
