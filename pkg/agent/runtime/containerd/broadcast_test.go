package containerd

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tugcluster/tug/internal/syncbuf"
)

// waitOutput waits until b contains want.
func waitOutput(t *testing.T, b *syncbuf.Buffer, want string, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if !b.WaitFor(ctx, want) {
		t.Fatalf("output %q lacks %q after %v", b.String(), want, within)
	}
}

func waitDone(t *testing.T, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s did not end", what)
	}
}

func TestBroadcasterDeliversStreamsToEverySession(t *testing.T) {
	b := newBroadcaster()
	var out1, err1, out2 syncbuf.Buffer
	s1 := b.subscribe(map[string]io.Writer{"stdout": &out1, "stderr": &err1})
	s2 := b.subscribe(map[string]io.Writer{"stdout": &out2, "stderr": nil})
	w := streamWriter{b, "stdout"}
	if _, err := w.Write([]byte("hello ")); err != nil {
		t.Fatal(err)
	}
	b.write("stderr", []byte("oops"))
	b.write("stdout", []byte("world"))
	b.close()
	waitDone(t, s1.done, "first session")
	waitDone(t, s2.done, "second session")
	if out1.String() != "hello world" || err1.String() != "oops" || out2.String() != "hello world" {
		t.Errorf("sessions got stdout %q stderr %q and stdout %q", out1.String(), err1.String(), out2.String())
	}
	late := b.subscribe(map[string]io.Writer{"stdout": &out1})
	waitDone(t, late.done, "a session after the output ended")
}

// blockedWriter never returns until released.
type blockedWriter struct{ release chan struct{} }

func (w blockedWriter) Write(p []byte) (int, error) {
	<-w.release
	return 0, errors.New("released")
}

func TestBroadcasterDropsSlowAndFailedSessions(t *testing.T) {
	b := newBroadcaster()
	slow := blockedWriter{release: make(chan struct{})}
	defer close(slow.release)
	var fast syncbuf.Buffer
	sSlow := b.subscribe(map[string]io.Writer{"stdout": slow})
	sFast := b.subscribe(map[string]io.Writer{"stdout": &fast})
	// The keeping-up session takes each chunk before the next; the
	// stuck one falls behind and is dropped without blocking the writes.
	for i := 1; i <= maxPendingChunks+10; i++ {
		b.write("stdout", []byte("x"))
		waitOutput(t, &fast, strings.Repeat("x", i), 5*time.Second)
	}
	b.mu.Lock()
	_, slowKept := b.subs[sSlow]
	_, fastKept := b.subs[sFast]
	b.mu.Unlock()
	if slowKept || !fastKept {
		t.Errorf("after overflow: stuck session kept %v, keeping-up session kept %v", slowKept, fastKept)
	}

	failing := b.subscribe(map[string]io.Writer{"stdout": failWriter{}})
	b.write("stdout", []byte("y"))
	waitDone(t, failing.done, "a session whose writer fails")
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }
