package containerd

import (
	"io"
	"sync"
	"sync/atomic"
)

// An attached session may fall behind the container's output by at most
// maxPendingChunks reads or maxPendingBytes; a session further behind is
// disconnected, so it never slows the log copier down.
const (
	maxPendingChunks = 1024
	maxPendingBytes  = 4 << 20
)

// broadcaster hands a container's output, as the log copier reads it, to
// every attached session. Writing never blocks and never fails: each
// session has its own queue and its own goroutine writing to the caller.
type broadcaster struct {
	mu     sync.Mutex
	subs   map[*subscription]struct{}
	closed bool
}

// chunk is one read from a stream; data is shared by all sessions and
// never modified.
type chunk struct {
	stream string
	data   []byte
}

// subscription is one session's share of the output.
type subscription struct {
	b    *broadcaster
	out  map[string]io.Writer // stream name → the caller's writer
	ch   chan chunk
	done chan struct{} // closed once everything queued was written or the caller failed
	once sync.Once
	// stopped: the session is over; queued output is dropped, not written.
	stopped atomic.Bool
	pending atomic.Int64 // bytes queued, not yet written
}

func newBroadcaster() *broadcaster {
	return &broadcaster{subs: map[*subscription]struct{}{}}
}

// subscribe starts delivering the named streams to their writers (nil
// writers are skipped). The subscription's done closes when the output
// ends (the container exited), a writer fails or the session falls too far
// behind.
func (b *broadcaster) subscribe(out map[string]io.Writer) *subscription {
	s := &subscription{b: b, out: map[string]io.Writer{}, ch: make(chan chunk, maxPendingChunks), done: make(chan struct{})}
	for name, w := range out {
		if w != nil {
			s.out[name] = w
		}
	}
	b.mu.Lock()
	if b.closed {
		s.closeQueue()
	} else {
		b.subs[s] = struct{}{}
	}
	b.mu.Unlock()
	go s.deliver()
	return s
}

// write queues a copy of p for every session that wants stream.
func (b *broadcaster) write(stream string, p []byte) {
	if len(p) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var c chunk
	for s := range b.subs {
		if s.out[stream] == nil {
			continue
		}
		if c.data == nil {
			c = chunk{stream: stream, data: append([]byte(nil), p...)}
		}
		if s.pending.Load()+int64(len(c.data)) > maxPendingBytes {
			delete(b.subs, s)
			s.closeQueue()
			continue
		}
		select {
		case s.ch <- c:
			s.pending.Add(int64(len(c.data)))
		default:
			delete(b.subs, s)
			s.closeQueue()
		}
	}
}

// close ends every session once its queue is written; later subscribers
// end at once.
func (b *broadcaster) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.subs {
		delete(b.subs, s)
		s.closeQueue()
	}
}

// streamWriter is an io.Writer onto one stream of a broadcaster.
type streamWriter struct {
	b      *broadcaster
	stream string
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.b.write(w.stream, p)
	return len(p), nil
}

// cancel detaches the session; what is still queued is dropped.
func (s *subscription) cancel() {
	s.stopped.Store(true)
	s.detach()
}

// detach stops queueing output for the session.
func (s *subscription) detach() {
	s.b.mu.Lock()
	delete(s.b.subs, s)
	s.closeQueue()
	s.b.mu.Unlock()
}

// closeQueue is called with the broadcaster's lock held.
func (s *subscription) closeQueue() {
	s.once.Do(func() { close(s.ch) })
}

func (s *subscription) deliver() {
	defer close(s.done)
	for c := range s.ch {
		s.pending.Add(-int64(len(c.data)))
		if s.stopped.Load() {
			continue
		}
		if _, err := s.out[c.stream].Write(c.data); err != nil {
			s.cancel()
		}
	}
}
