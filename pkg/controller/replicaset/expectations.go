package replicaset

import (
	"sync"
	"time"
)

// expectationsTTL bounds how long a controller waits for the watch to
// confirm its own writes before it trusts the cache again.
const expectationsTTL = 5 * time.Minute

// expectations remembers, per ReplicaSet key, the pod creations and
// deletions the controller issued but has not yet seen in its informer
// cache. While any are outstanding the controller does not act on the
// pod count, so a stale cache never makes it create or delete twice.
// Deletions are tracked by pod key so that a pod seen first as
// terminating and then as deleted is counted once.
type expectations struct {
	mu    sync.Mutex
	items map[string]*expectation
	now   func() time.Time
}

type expectation struct {
	adds      int
	deletions map[string]bool
	at        time.Time
}

func newExpectations(now func() time.Time) *expectations {
	return &expectations{items: map[string]*expectation{}, now: now}
}

// satisfied reports whether the controller may act on the cache for key.
func (e *expectations) satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.items[key]
	if !ok {
		return true
	}
	if x.adds <= 0 && len(x.deletions) == 0 {
		return true
	}
	return e.now().Sub(x.at) > expectationsTTL
}

func (e *expectations) expectCreations(key string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.items[key] = &expectation{adds: n, deletions: map[string]bool{}, at: e.now()}
}

func (e *expectations) expectDeletions(key string, podKeys []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := &expectation{deletions: map[string]bool{}, at: e.now()}
	for _, k := range podKeys {
		x.deletions[k] = true
	}
	e.items[key] = x
}

// creationObserved lowers the outstanding creations of key by one.
func (e *expectations) creationObserved(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.items[key]; ok && x.adds > 0 {
		x.adds--
	}
}

// deletionObserved marks the deletion of podKey as seen.
func (e *expectations) deletionObserved(key, podKey string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.items[key]; ok {
		delete(x.deletions, podKey)
	}
}

func (e *expectations) forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.items, key)
}
