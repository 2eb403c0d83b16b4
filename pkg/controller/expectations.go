package controller

import (
	"sync"
	"time"
)

// ExpectationsTTL bounds how long a controller waits for the watch to
// confirm its own writes before it trusts the cache again.
const ExpectationsTTL = 5 * time.Minute

// Expectations remembers, per owner key, the creations and deletions a
// controller issued but has not yet seen in its informer cache. While any
// are outstanding the controller does not act on the count it sees, so a
// stale cache never makes it create or delete twice. Deletions are tracked
// by an identity D (a pod key or UID) so a pod seen first as terminating
// and then as deleted is counted once.
type Expectations[D comparable] struct {
	mu    sync.Mutex
	items map[string]*expectation[D]
	now   func() time.Time
}

type expectation[D comparable] struct {
	adds      int
	deletions map[D]bool
	at        time.Time
}

// NewExpectations returns empty expectations reading time from now.
func NewExpectations[D comparable](now func() time.Time) *Expectations[D] {
	return &Expectations[D]{items: map[string]*expectation[D]{}, now: now}
}

// Satisfied reports whether the controller may act on the cache for key:
// nothing is outstanding, or the expectations are older than the TTL.
func (e *Expectations[D]) Satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.items[key]
	return !ok || (x.adds <= 0 && len(x.deletions) == 0) || e.now().Sub(x.at) > ExpectationsTTL
}

// Expect replaces what key waits for with adds creations and the
// deletions of dels.
func (e *Expectations[D]) Expect(key string, adds int, dels []D) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := &expectation[D]{adds: adds, deletions: make(map[D]bool, len(dels)), at: e.now()}
	for _, d := range dels {
		x.deletions[d] = true
	}
	e.items[key] = x
}

// CreationObserved lowers the outstanding creations of key by one.
func (e *Expectations[D]) CreationObserved(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.items[key]; ok && x.adds > 0 {
		x.adds--
	}
}

// DeletionObserved marks the deletion of d as seen.
func (e *Expectations[D]) DeletionObserved(key string, d D) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.items[key]; ok {
		delete(x.deletions, d)
	}
}

// Forget drops key, e.g. when its owner is gone.
func (e *Expectations[D]) Forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.items, key)
}
