package daemonset

import (
	"sync"
	"time"
)

// pendingTTL bounds how long the controller waits for its informer to
// show a write it made before it trusts the cache again.
const pendingTTL = 2 * time.Minute

// pending remembers the pod creations (per DaemonSet and node) and pod
// deletions (per pod key) the controller issued but has not yet seen in
// its informer cache, so a stale cache never makes it create a second
// pod for a node or count a deleted pod as still running.
type pending struct {
	mu      sync.Mutex
	creates map[string]map[string]time.Time
	deletes map[string]time.Time
	now     func() time.Time
}

func newPending(now func() time.Time) *pending {
	return &pending{creates: map[string]map[string]time.Time{}, deletes: map[string]time.Time{}, now: now}
}

func (p *pending) expectCreate(dsKey, node string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := p.creates[dsKey]
	if m == nil {
		m = map[string]time.Time{}
		p.creates[dsKey] = m
	}
	m[node] = p.now()
}

// created marks the creation for node as seen (or as never happening).
func (p *pending) created(dsKey, node string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.creates[dsKey], node)
}

// creating reports whether a pod for node was created but not yet seen.
func (p *pending) creating(dsKey, node string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	at, ok := p.creates[dsKey][node]
	return ok && p.now().Sub(at) < pendingTTL
}

// anyCreating reports whether any creation of dsKey is outstanding.
func (p *pending) anyCreating(dsKey string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, at := range p.creates[dsKey] {
		if p.now().Sub(at) < pendingTTL {
			return true
		}
	}
	return false
}

func (p *pending) expectDelete(podKey string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deletes[podKey] = p.now()
}

func (p *pending) deleted(podKey string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.deletes, podKey)
}

// deleting reports whether the pod was deleted but is still in the cache.
func (p *pending) deleting(podKey string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	at, ok := p.deletes[podKey]
	return ok && p.now().Sub(at) < pendingTTL
}

func (p *pending) forget(dsKey string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.creates, dsKey)
}
