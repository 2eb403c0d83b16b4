package scheduler

import (
	"container/heap"
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

// Back-off of a pod that failed: 1 s, doubling per attempt, at most 10 s.
// A pod parked as unschedulable is retried after maxUnschedulableWait even
// without a cluster change.
const (
	defaultInitialBackoff = time.Second
	defaultMaxBackoff     = 10 * time.Second
	maxUnschedulableWait  = 5 * time.Minute
)

// queuedPod is a pod waiting to be scheduled, with its retry state.
type queuedPod struct {
	pod      *corev1.Pod
	key      string
	priority int32
	attempts int
	// backoffUntil is when the pod may be tried again.
	backoffUntil time.Time
	// parkedAt is when the pod was parked as unschedulable.
	parkedAt time.Time
	// cycle is the scheduling cycle that popped the pod.
	cycle int64
	index int
}

// Queue orders pending pods: an active heap (higher priority first, then
// older pods), a back-off set, and unschedulable pods parked until the
// cluster changes in a way that may help them.
type Queue struct {
	mu            sync.Mutex
	cond          *sync.Cond
	active        activeHeap
	backoff       map[string]*queuedPod
	unschedulable map[string]*queuedPod
	inFlight      map[string]*queuedPod
	// moveCycle is the scheduling cycle of the last cluster change; a pod
	// popped before it failed against an older cluster and is not parked.
	moveCycle, schedulingCycle int64
	closed                     bool

	initialBackoff, maxBackoff time.Duration
	now                        func() time.Time
	priority                   func(*corev1.Pod) int32
}

// NewQueue returns an empty queue. priority resolves a pod's priority.
func NewQueue(priority func(*corev1.Pod) int32, initialBackoff, maxBackoff time.Duration, now func() time.Time) *Queue {
	if priority == nil {
		priority = podPriority
	}
	if now == nil {
		now = time.Now
	}
	q := &Queue{
		backoff: map[string]*queuedPod{}, unschedulable: map[string]*queuedPod{}, inFlight: map[string]*queuedPod{},
		initialBackoff: initialBackoff, maxBackoff: maxBackoff, now: now, priority: priority,
	}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// Add queues a pod, or updates it if already known.
func (q *Queue) Add(pod *corev1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.updateLocked(pod)
}

// Update records a newer version of a pending pod. A parked pod whose
// scheduling-relevant fields changed becomes active again.
func (q *Queue) Update(pod *corev1.Pod) { q.Add(pod) }

func (q *Queue) updateLocked(pod *corev1.Pod) {
	key := podKey(pod)
	if qp := q.inFlight[key]; qp != nil {
		qp.pod = pod
		return
	}
	if qp := q.active.get(key); qp != nil {
		qp.pod, qp.priority = pod, q.priority(pod)
		heap.Fix(&q.active, qp.index)
		return
	}
	if qp := q.backoff[key]; qp != nil {
		qp.pod = pod
		return
	}
	if qp := q.unschedulable[key]; qp != nil {
		changed := schedulingChanged(qp.pod, pod)
		qp.pod = pod
		if changed {
			delete(q.unschedulable, key)
			q.requeueLocked(qp)
		}
		return
	}
	q.pushLocked(&queuedPod{pod: pod, key: key, priority: q.priority(pod)})
}

// schedulingChanged reports a change other than status and bookkeeping
// metadata (the scheduler's own status writes must not wake a pod).
func schedulingChanged(old, cur *corev1.Pod) bool {
	strip := func(p *corev1.Pod) *corev1.Pod {
		c := p.DeepCopy()
		c.ResourceVersion, c.Generation, c.ManagedFields, c.Status = "", 0, nil, corev1.PodStatus{}
		return c
	}
	return !equality.Semantic.DeepEqual(strip(old), strip(cur))
}

// Delete forgets a pod.
func (q *Queue) Delete(pod *corev1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := podKey(pod)
	if qp := q.active.get(key); qp != nil {
		heap.Remove(&q.active, qp.index)
	}
	delete(q.backoff, key)
	delete(q.unschedulable, key)
	delete(q.inFlight, key)
}

// Pop blocks until a pod is active and returns it, marked in flight until
// Done, AddUnschedulable or AddBackoff. It fails once ctx ends or the queue
// is closed.
func (q *Queue) Pop(ctx context.Context) (*queuedPod, error) {
	stop := context.AfterFunc(ctx, func() {
		q.mu.Lock()
		q.cond.Broadcast()
		q.mu.Unlock()
	})
	defer stop()
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.active.Len() == 0 {
		if q.closed {
			return nil, context.Canceled
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		q.cond.Wait()
	}
	qp := heap.Pop(&q.active).(*queuedPod)
	q.schedulingCycle++
	qp.cycle = q.schedulingCycle
	q.inFlight[qp.key] = qp
	return qp, nil
}

// Done ends a pod's flight after it was assumed on a node.
func (q *Queue) Done(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.inFlight, key)
}

// AddUnschedulable parks a pod that fits no node. If the cluster changed
// while it was being scheduled, it only backs off instead.
func (q *Queue) AddUnschedulable(qp *queuedPod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.inFlight[qp.key] != qp {
		return // deleted meanwhile
	}
	delete(q.inFlight, qp.key)
	q.bumpBackoff(qp)
	if q.moveCycle >= qp.cycle {
		q.backoff[qp.key] = qp
		return
	}
	qp.parkedAt = q.now()
	q.unschedulable[qp.key] = qp
}

// AddBackoff retries a pod after its back-off (a failed binding, an API
// error).
func (q *Queue) AddBackoff(qp *queuedPod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.inFlight[qp.key] != nil && q.inFlight[qp.key] != qp {
		return
	}
	delete(q.inFlight, qp.key)
	q.bumpBackoff(qp)
	q.backoff[qp.key] = qp
}

func (q *Queue) bumpBackoff(qp *queuedPod) {
	qp.attempts++
	d := q.initialBackoff
	for i := 1; i < qp.attempts && d < q.maxBackoff; i++ {
		d *= 2
	}
	qp.backoffUntil = q.now().Add(min(d, q.maxBackoff))
}

// MoveAllToActive wakes parked pods after a cluster change that may let
// them fit (a node added or changed, a pod deleted).
func (q *Queue) MoveAllToActive() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for key, qp := range q.unschedulable {
		delete(q.unschedulable, key)
		q.requeueLocked(qp)
	}
	q.moveCycle = q.schedulingCycle
}

// requeueLocked sends a pod to active, or to back-off if still backing off.
func (q *Queue) requeueLocked(qp *queuedPod) {
	if q.now().Before(qp.backoffUntil) {
		q.backoff[qp.key] = qp
		return
	}
	q.pushLocked(qp)
}

// Flush moves pods whose back-off ended to active, and pods parked too
// long back to the queue.
func (q *Queue) Flush() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	for key, qp := range q.backoff {
		if !now.Before(qp.backoffUntil) {
			delete(q.backoff, key)
			q.pushLocked(qp)
		}
	}
	for key, qp := range q.unschedulable {
		if now.Sub(qp.parkedAt) >= maxUnschedulableWait {
			delete(q.unschedulable, key)
			q.requeueLocked(qp)
		}
	}
}

// Close wakes Pop callers and makes them fail.
func (q *Queue) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.cond.Broadcast()
}

// Len counts pods in each part of the queue: active, back-off, parked.
func (q *Queue) Len() (active, backoff, unschedulable int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.active.Len(), len(q.backoff), len(q.unschedulable)
}

func (q *Queue) pushLocked(qp *queuedPod) {
	qp.priority = q.priority(qp.pod)
	heap.Push(&q.active, qp)
	q.cond.Signal()
}

// activeHeap orders by priority (higher first), then creation time.
type activeHeap struct {
	items []*queuedPod
	byKey map[string]*queuedPod
}

func (h *activeHeap) get(key string) *queuedPod { return h.byKey[key] }
func (h activeHeap) Len() int                   { return len(h.items) }

func (h activeHeap) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	if a.priority != b.priority {
		return a.priority > b.priority
	}
	ta, tb := a.pod.CreationTimestamp, b.pod.CreationTimestamp
	if !ta.Equal(&tb) {
		return ta.Before(&tb)
	}
	return a.key < b.key
}

func (h activeHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].index, h.items[j].index = i, j
}

func (h *activeHeap) Push(x any) {
	qp := x.(*queuedPod)
	if h.byKey == nil {
		h.byKey = map[string]*queuedPod{}
	}
	qp.index = len(h.items)
	h.items = append(h.items, qp)
	h.byKey[qp.key] = qp
}

func (h *activeHeap) Pop() any {
	last := len(h.items) - 1
	qp := h.items[last]
	h.items[last] = nil
	h.items = h.items[:last]
	delete(h.byKey, qp.key)
	return qp
}
