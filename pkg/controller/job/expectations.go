package job

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/tugcluster/tug/pkg/controller"
)

// releases remembers the pods whose tracking finalizer the controller
// removed (and so already counted) but whose removal the informer cache
// does not show yet, so a stale cache never makes it count a finished pod
// twice. Pod creations and deletions are tracked by
// controller.Expectations.
type releases struct {
	mu   sync.Mutex
	uids map[types.UID]time.Time
	now  func() time.Time
}

func newReleases(now func() time.Time) *releases {
	return &releases{uids: map[types.UID]time.Time{}, now: now}
}

// issued records that uid's tracking finalizer was removed and the pod is
// already counted.
func (r *releases) issued(uid types.UID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.uids[uid] = r.now()
}

// seen drops uid once the cache shows the removal.
func (r *releases) seen(uid types.UID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.uids, uid)
}

// counted reports whether uid's finalizer removal is issued but not seen.
func (r *releases) counted(uid types.UID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	at, ok := r.uids[uid]
	if ok && r.now().Sub(at) > controller.ExpectationsTTL {
		delete(r.uids, uid)
		return false
	}
	return ok
}
