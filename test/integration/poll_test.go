package integration

import (
	"testing"
	"time"
)

// eventually polls cond every 50 ms until it reports done, failing the
// test with cond's last description after timeout.
func eventually(t *testing.T, timeout time.Duration, cond func() (done bool, state string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		done, state := cond()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not done after %s: %s", timeout, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
