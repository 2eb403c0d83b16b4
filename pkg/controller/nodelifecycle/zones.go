package nodelifecycle

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/util/flowcontrol"
)

// zoneState is how healthy a zone is, which decides how fast its nodes
// may be tainted NoExecute (and so emptied).
type zoneState int

const (
	zoneNormal zoneState = iota
	zonePartialDisruption
	zoneFullDisruption
)

func (s zoneState) String() string {
	return [...]string{"Normal", "PartialDisruption", "FullDisruption"}[s]
}

// zoneOf is the failure domain of a node: its region and zone labels.
func zoneOf(n *corev1.Node) string {
	return n.Labels[corev1.LabelTopologyRegion] + "/" + n.Labels[corev1.LabelTopologyZone]
}

// computeZoneState classifies a zone from its ready and not-ready node
// counts: no ready node is a full disruption; more than two not-ready
// nodes making up at least threshold of the zone is a partial one.
func computeZoneState(ready, notReady int, threshold float64) zoneState {
	switch {
	case ready == 0 && notReady > 0:
		return zoneFullDisruption
	case notReady > 2 && float64(notReady)/float64(ready+notReady) >= threshold:
		return zonePartialDisruption
	}
	return zoneNormal
}

// zoneRate is the NoExecute tainting rate (nodes per second) of a zone.
// When every zone is fully disrupted the control plane is more likely cut
// off than every node dead, so nothing is tainted (rate 0) and existing
// NoExecute taints are lifted. A partially disrupted zone is slowed down,
// and a small one stopped.
func zoneRate(state zoneState, size int, allDisrupted bool, cfg Config) float64 {
	switch {
	case allDisrupted:
		return 0
	case state == zonePartialDisruption && size > cfg.LargeClusterThreshold:
		return cfg.SecondaryEvictionRate
	case state == zonePartialDisruption:
		return 0
	}
	return cfg.EvictionRate
}

// zones holds the latest zone classification and one token bucket per
// zone (burst 1) that NoExecute tainting draws from.
type zones struct {
	cfg Config

	mu           sync.Mutex
	allDisrupted bool
	rates        map[string]float64
	limiters     map[string]flowcontrol.RateLimiter
}

func newZones(cfg Config) *zones {
	return &zones{cfg: cfg, rates: map[string]float64{}, limiters: map[string]flowcontrol.RateLimiter{}}
}

// update reclassifies every zone from the nodes and reports whether the
// cluster just left the all-zones-disrupted state.
func (z *zones) update(nodes []*corev1.Node) (recovered bool) {
	type counts struct{ ready, notReady int }
	byZone := map[string]*counts{}
	for _, n := range nodes {
		c := byZone[zoneOf(n)]
		if c == nil {
			c = &counts{}
			byZone[zoneOf(n)] = c
		}
		if readyStatus(n) == corev1.ConditionTrue {
			c.ready++
		} else {
			c.notReady++
		}
	}
	all := len(byZone) > 0
	states := map[string]zoneState{}
	for zone, c := range byZone {
		states[zone] = computeZoneState(c.ready, c.notReady, z.cfg.UnhealthyZoneThreshold)
		all = all && states[zone] == zoneFullDisruption
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	recovered = z.allDisrupted && !all
	z.allDisrupted = all
	for zone, c := range byZone {
		rate := zoneRate(states[zone], c.ready+c.notReady, all, z.cfg)
		if old, ok := z.rates[zone]; ok && old == rate {
			continue
		}
		z.rates[zone] = rate
		if rate > 0 {
			z.limiters[zone] = flowcontrol.NewTokenBucketRateLimiter(float32(rate), 1)
		} else {
			delete(z.limiters, zone)
		}
	}
	for zone := range z.rates {
		if byZone[zone] == nil {
			delete(z.rates, zone)
			delete(z.limiters, zone)
		}
	}
	return recovered
}

// disrupted reports whether every zone is fully disrupted.
func (z *zones) disrupted() bool {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.allDisrupted
}

// tryTaint takes a token of the node's zone; false when the zone is out
// of tokens or stopped. A zone not classified yet is allowed.
func (z *zones) tryTaint(zone string) bool {
	z.mu.Lock()
	defer z.mu.Unlock()
	rate, known := z.rates[zone]
	if !known {
		return true
	}
	if rate <= 0 {
		return false
	}
	return z.limiters[zone].TryAccept()
}
