package nodelifecycle

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugcluster/tug/pkg/controller/replicaset"
)

// syncNode judges one node's health, marks it Unknown when it went
// silent, brings its taints in line with its conditions, and marks its
// pods not ready when it is unreachable.
func (nc *Controller) syncNode(ctx context.Context, name string) error {
	node, err := nc.nodes.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !nc.managed(node) {
		return nil
	}
	now := nc.now()
	var leaseRenew time.Time
	if l, err := nc.leases.Leases(LeaseNamespace).Get(name); err == nil && l.Spec.RenewTime != nil {
		leaseRenew = l.Spec.RenewTime.Time
	}
	ready := condition(node, corev1.NodeReady)
	var heartbeat time.Time
	if ready != nil {
		heartbeat = ready.LastHeartbeatTime.Time
	}
	nc.mu.Lock()
	h := observe(nc.health[name], node.CreationTimestamp.Time, heartbeat, leaseRenew, now)
	nc.health[name] = &h
	nc.mu.Unlock()

	deadline := staleAfter(h, ready != nil, nc.cfg.GracePeriod, nc.cfg.StartupGracePeriod)
	if !now.Before(deadline) {
		if node, err = nc.markNodeUnknown(ctx, node, now); err != nil {
			return err
		}
	} else {
		nc.nodeQueue.AddAfter(name, deadline.Sub(now)+10*time.Millisecond)
	}
	if err := nc.reconcileTaints(ctx, node, now); err != nil {
		return err
	}
	if readyStatus(node) == corev1.ConditionUnknown {
		return nc.markPodsNotReady(ctx, name, now)
	}
	return nil
}

// markNodeUnknown writes the Unknown conditions of a silent node.
func (nc *Controller) markNodeUnknown(ctx context.Context, node *corev1.Node, now time.Time) (*corev1.Node, error) {
	conds, changed := markUnknown(node.Status.Conditions, node.CreationTimestamp.Time, now)
	if !changed {
		return node, nil
	}
	wasReady := readyStatus(node) == corev1.ConditionTrue
	next := node.DeepCopy()
	next.Status.Conditions = conds
	updated, err := nc.client.CoreV1().Nodes().UpdateStatus(ctx, next, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("mark node %s unknown: %w", node.Name, err)
	}
	if wasReady {
		nc.log.Info("node stopped reporting", "node", node.Name)
		nc.events.Eventf(nodeRef(node.Name), corev1.EventTypeNormal, "NodeNotReady",
			"Node %s status is now: NodeNotReady", node.Name)
	}
	return updated, nil
}

// reconcileTaints adds and removes the controller's taints. Adding a
// NoExecute taint to a node that has none takes a token of its zone; a
// node that gets none now is retried after the monitor period.
func (nc *Controller) reconcileTaints(ctx context.Context, node *corev1.Node, now time.Time) error {
	want := noExecuteTaint(node)
	have := currentNoExecute(node.Spec.Taints)
	if nc.zones.disrupted() {
		want = ""
	}
	if want != "" && have == "" && !nc.zones.tryTaint(zoneOf(node)) {
		want = ""
		nc.nodeQueue.AddAfter(node.Name, nc.cfg.MonitorPeriod)
	}
	taints := withTaints(node.Spec.Taints, noScheduleTaints(node), want, now)
	if apiequality.Semantic.DeepEqual(taints, node.Spec.Taints) ||
		(len(taints) == 0 && len(node.Spec.Taints) == 0) {
		return nil
	}
	next := node.DeepCopy()
	next.Spec.Taints = taints
	if _, err := nc.client.CoreV1().Nodes().Update(ctx, next, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("taint node %s: %w", node.Name, err)
	}
	if want != have {
		nc.log.Info("node NoExecute taint", "node", node.Name, "from", have, "to", want)
	}
	return nil
}

// markPodsNotReady sets the Ready condition of the node's pods to False:
// nobody can vouch for them while their node is unreachable, and Services
// stop sending them traffic.
func (nc *Controller) markPodsNotReady(ctx context.Context, node string, now time.Time) error {
	var errs []error
	for _, p := range nc.podsOn(node) {
		if !replicaset.IsPodReady(p) {
			continue
		}
		next := p.DeepCopy()
		i := slices.IndexFunc(next.Status.Conditions, func(c corev1.PodCondition) bool { return c.Type == corev1.PodReady })
		next.Status.Conditions[i].Status = corev1.ConditionFalse
		next.Status.Conditions[i].LastTransitionTime = metav1.NewTime(now)
		_, err := nc.client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, next, metav1.UpdateOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("mark pod %s/%s not ready: %w", p.Namespace, p.Name, err))
		}
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// nodeRef is the object Events about a node point at (Kubernetes uses the
// node's name as its UID there).
func nodeRef(name string) *corev1.ObjectReference {
	return &corev1.ObjectReference{Kind: "Node", Name: name, UID: types.UID(name)}
}
