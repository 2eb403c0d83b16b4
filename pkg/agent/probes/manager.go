package probes

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"
)

// ManagerOptions configure a Manager.
type ManagerOptions struct {
	// Prober runs the handlers (required).
	Prober *Prober
	// Clock schedules attempts; nil means the real clock.
	Clock clock.WithDelayedExecution
	// Changed is called (from a probe goroutine, so it must not block)
	// with the pod key whenever a container's started or ready state
	// changes or a container must be killed.
	Changed func(key string)
	// Event records an Event about a container ("Unhealthy" …); nil
	// records none.
	Event func(pod *corev1.Pod, container, eventType, reason, message string)
	// Jitter returns a number in [0,1) spreading the first attempts of
	// adopted containers; nil means math/rand.
	Jitter func() float64
}

// Manager keeps the probe workers of the running containers of a node's
// pods. Each worker is a timer, not a goroutine: an attempt runs in a
// goroutine of its own only while it lasts. Pods without probes cost
// nothing.
type Manager struct {
	opts   ManagerOptions
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	pods   map[string]map[workerKey]*worker
	closed bool
}

type workerKey struct {
	container string
	kind      Kind
}

var kinds = [...]Kind{Startup, Liveness, Readiness}

// NewManager returns a Manager; Close stops it.
func NewManager(opts ManagerOptions) *Manager {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Jitter == nil {
		opts.Jitter = rand.Float64
	}
	if opts.Changed == nil {
		opts.Changed = func(string) {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Manager{opts: opts, ctx: ctx, cancel: cancel, pods: map[string]map[workerKey]*worker{}}
}

// Running is a running container of a pod.
type Running struct {
	Name      string
	ID        string
	StartedAt time.Time
}

// SyncPod makes the pod's workers match its running app containers:
// each probe of a running container gets a worker for that instance;
// workers of containers that stopped or were replaced end.
func (m *Manager) SyncPod(key string, pod *corev1.Pod, podIP string, running []Running) {
	if !podHasProbes(pod) {
		m.RemovePod(key)
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	ws := m.pods[key]
	if ws == nil {
		ws = map[workerKey]*worker{}
		m.pods[key] = ws
	}
	seen := map[workerKey]bool{}
	for _, c := range probedContainers(pod) {
		r, ok := findRunning(running, c.Name)
		if !ok {
			continue
		}
		for _, k := range kinds {
			spec := probeOf(c, k)
			if spec == nil {
				continue
			}
			wk := workerKey{c.Name, k}
			seen[wk] = true
			if w := ws[wk]; w != nil {
				if w.target.ContainerID == r.ID {
					continue
				}
				w.stop()
			}
			w := newWorker(key, k, spec, Target{Pod: pod, Container: c, ContainerID: r.ID, PodIP: podIP}, r.StartedAt)
			ws[wk] = w
			m.scheduleLocked(w, w.firstDelay(m.opts.Clock.Now(), m.opts.Jitter()))
		}
	}
	for wk, w := range ws {
		if !seen[wk] {
			w.stop()
			delete(ws, wk)
		}
	}
	if len(ws) == 0 {
		delete(m.pods, key)
	}
}

func findRunning(rs []Running, name string) (Running, bool) {
	for _, r := range rs {
		if r.Name == name {
			return r, true
		}
	}
	return Running{}, false
}

func podHasProbes(pod *corev1.Pod) bool {
	for _, c := range probedContainers(pod) {
		if HasProbes(c) {
			return true
		}
	}
	return false
}

// probedContainers are the containers whose probes run: the sidecars
// (init containers with restartPolicy Always) and the app containers.
func probedContainers(pod *corev1.Pod) []*corev1.Container {
	var out []*corev1.Container
	for i := range pod.Spec.InitContainers {
		if c := &pod.Spec.InitContainers[i]; c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			out = append(out, c)
		}
	}
	for i := range pod.Spec.Containers {
		out = append(out, &pod.Spec.Containers[i])
	}
	return out
}

// RemovePod ends the pod's workers.
func (m *Manager) RemovePod(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, w := range m.pods[key] {
		w.stop()
	}
	delete(m.pods, key)
}

// Close ends every worker and cancels running attempts. It is
// idempotent.
func (m *Manager) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.cancel()
	for key, ws := range m.pods {
		for _, w := range ws {
			w.stop()
		}
		delete(m.pods, key)
	}
}

func (w *worker) stop() {
	w.stopped = true
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
}

// scheduleLocked runs the worker's next attempt after d. Callers hold
// mu. The clock's callback only starts a goroutine, so a fake clock
// that runs callbacks while stepping never blocks on mu.
func (m *Manager) scheduleLocked(w *worker, d time.Duration) {
	if d <= 0 {
		go m.attempt(w)
		return
	}
	w.timer = m.opts.Clock.AfterFunc(d, func() { go m.attempt(w) })
}
