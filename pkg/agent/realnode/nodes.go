package realnode

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/tugcluster/tug/pkg/network"
)

// watchNodes follows the cluster's Nodes: this node's spec.podCIDR
// configures the pod network (when it was not given), the others' pod
// CIDRs become host-gw routes via their InternalIPs.
func watchNodes(ctx context.Context, cfg Config, pn *podNetwork, onNetwork func(), log *slog.Logger) error {
	factory := informers.NewSharedInformerFactory(cfg.Client, 0)
	inf := factory.Core().V1().Nodes()
	changed := make(chan struct{}, 1)
	poke := func(any) {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	if _, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: poke, UpdateFunc: func(_, o any) { poke(o) }, DeleteFunc: poke,
	}); err != nil {
		return fmt.Errorf("node informer: %w", err)
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	var installed map[netip.Prefix]netip.Addr
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
		list, err := inf.Lister().List(labels.Everything())
		if err != nil {
			continue
		}
		nodes := make([]corev1.Node, 0, len(list))
		for _, n := range list {
			nodes = append(nodes, *n)
			if n.Name == cfg.NodeName && !cfg.PodCIDR.IsValid() && n.Spec.PodCIDR != "" {
				// A repeat is a no-op, a changed podCIDR an error.
				was := pn.configured()
				if err := configureFromNode(pn, cfg, n.Spec.PodCIDR); err != nil {
					return err
				}
				if !was {
					onNetwork()
				}
			}
		}
		peers := peerRoutes(cfg.NodeName, nodes)
		if installed != nil && maps.Equal(peers, installed) {
			continue
		}
		if err := network.SyncPeerRoutes(peers); err != nil {
			log.Warn("peer routes", "err", err)
			continue
		}
		installed = peers
	}
}

func configureFromNode(pn *podNetwork, cfg Config, podCIDR string) error {
	p, err := netip.ParsePrefix(podCIDR)
	if err != nil {
		return fmt.Errorf("node %s: spec.podCIDR %q: %w", cfg.NodeName, podCIDR, err)
	}
	return pn.configure(cfg.networkConfig(p.Masked()))
}
