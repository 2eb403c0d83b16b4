package job

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// expectationsTTL bounds how long the controller waits for the watch to
// confirm its own writes before it trusts the cache again.
const expectationsTTL = 5 * time.Minute

// expectations remembers the pod creations and deletions issued per Job
// key and not yet seen in the informer cache, so a stale cache never makes
// the controller create or delete twice, and the pods whose tracking
// finalizer it removed, so a stale cache never makes it count a finished
// pod twice.
type expectations struct {
	mu       sync.Mutex
	jobs     map[string]*pending
	released map[types.UID]time.Time
	now      func() time.Time
}

type pending struct {
	adds int
	dels map[types.UID]bool
	at   time.Time
}

func newExpectations(now func() time.Time) *expectations {
	return &expectations{jobs: map[string]*pending{}, released: map[types.UID]time.Time{}, now: now}
}

// satisfied reports whether the controller may act on the pod count of key.
func (e *expectations) satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.jobs[key]
	return !ok || (p.adds <= 0 && len(p.dels) == 0) || e.now().Sub(p.at) > expectationsTTL
}

// expect records n creations and the deletions of uids for key.
func (e *expectations) expect(key string, n int, uids []types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := &pending{adds: n, dels: map[types.UID]bool{}, at: e.now()}
	for _, u := range uids {
		p.dels[u] = true
	}
	e.jobs[key] = p
}

func (e *expectations) creationObserved(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p, ok := e.jobs[key]; ok && p.adds > 0 {
		p.adds--
	}
}

func (e *expectations) deletionObserved(key string, uid types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p, ok := e.jobs[key]; ok {
		delete(p.dels, uid)
	}
}

func (e *expectations) forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.jobs, key)
}

// finalizerRemovalIssued records that uid's tracking finalizer was removed
// and the pod is already counted.
func (e *expectations) finalizerRemovalIssued(uid types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.released[uid] = e.now()
}

// finalizerRemoved drops uid once the cache shows the removal.
func (e *expectations) finalizerRemoved(uid types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.released, uid)
}

// counted reports whether uid's finalizer removal is issued but not seen.
func (e *expectations) counted(uid types.UID) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	at, ok := e.released[uid]
	if ok && e.now().Sub(at) > expectationsTTL {
		delete(e.released, uid)
		return false
	}
	return ok
}
