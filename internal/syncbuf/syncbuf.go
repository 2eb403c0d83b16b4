// Package syncbuf is a byte buffer that one goroutine may write while
// others read it: tests use it to watch output (of a process, a stream, an
// attach session) as it arrives.
package syncbuf

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"time"
)

// Buffer is an io.Writer whose contents can be read at any time. The zero
// value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// WaitFor reports whether the buffer came to contain want before ctx
// ended, checking every few milliseconds.
func (b *Buffer) WaitFor(ctx context.Context, want string) bool {
	for pause := time.Millisecond; !strings.Contains(b.String(), want); pause = min(2*pause, 50*time.Millisecond) {
		select {
		case <-ctx.Done():
			return strings.Contains(b.String(), want)
		case <-time.After(pause):
		}
	}
	return true
}
