package nodelifecycle

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// collectPods force-deletes pods that can never finish on their own:
// pods bound to a node that has been gone for the quarantine period
// (confirmed with a live read, since the cache may lag), and terminating
// pods that were never bound to any node.
func (nc *Controller) collectPods(ctx context.Context) {
	all := nc.podIndex.List()
	now := nc.now()
	byNode := map[string][]*corev1.Pod{}
	for _, o := range all {
		p, ok := o.(*corev1.Pod)
		if !ok {
			continue
		}
		if p.Spec.NodeName == "" {
			if p.DeletionTimestamp != nil {
				nc.forceDelete(ctx, p, "PodGC: pod was terminating and not scheduled")
			}
			continue
		}
		byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], p)
	}
	seen := map[string]bool{}
	for node, pods := range byNode {
		seen[node] = true
		if _, err := nc.nodes.Get(node); err == nil {
			nc.forgetMissing(node)
			continue
		}
		if !nc.missingLongEnough(node, now) {
			continue
		}
		if _, err := nc.client.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			continue
		}
		for _, p := range pods {
			nc.forceDelete(ctx, p, "PodGC: node no longer exists")
		}
	}
	nc.mu.Lock()
	for node := range nc.missing {
		if !seen[node] {
			delete(nc.missing, node)
		}
	}
	nc.mu.Unlock()
}

func (nc *Controller) forceDelete(ctx context.Context, p *corev1.Pod, message string) {
	zero := int64(0)
	if err := nc.evict(ctx, p, reasonPodGC, message, &zero); err != nil && ctx.Err() == nil {
		nc.log.Warn("pod garbage collection", "pod", p.Namespace+"/"+p.Name, "err", err)
	}
}

// missingLongEnough notes the first time a node was found missing and
// reports whether the quarantine has passed since.
func (nc *Controller) missingLongEnough(node string, now time.Time) bool {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	first, ok := nc.missing[node]
	if !ok {
		nc.missing[node] = now
		return nc.cfg.OrphanQuarantine <= 0
	}
	return !now.Before(first.Add(nc.cfg.OrphanQuarantine))
}

func (nc *Controller) forgetMissing(node string) {
	nc.mu.Lock()
	delete(nc.missing, node)
	nc.mu.Unlock()
}
