//go:build e2e

package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// dialIn returns a dial function whose sockets live in the network
// namespace at nsPath (a test host), so the test process itself can talk to
// addresses that exist only there. Each socket is made on a goroutine
// locked to its OS thread, which enters the namespace and afterwards
// returns to the thread's own one before unlocking. A thread that cannot
// return stays locked and ends with its goroutine, so no other goroutine
// ever runs in a test host's namespace. (Threads must not end needlessly:
// a child started with Pdeathsig from a thread is killed when that thread
// ends.) A socket keeps the namespace it was made in, so the connection
// works from any thread afterwards.
func dialIn(nsPath string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		type result struct {
			conn net.Conn
			err  error
		}
		ch := make(chan result, 1)
		go func() {
			runtime.LockOSThread()
			conn, restored, err := dialInLocked(ctx, nsPath, network, addr)
			if restored {
				runtime.UnlockOSThread()
			}
			ch <- result{conn, err}
		}()
		r := <-ch
		return r.conn, r.err
	}
}

// dialInLocked dials from the namespace at nsPath on the current, locked
// thread and reports whether the thread is back in its own namespace.
func dialInLocked(ctx context.Context, nsPath, network, addr string) (conn net.Conn, restored bool, err error) {
	own, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return nil, true, err
	}
	defer own.Close()
	target, err := os.Open(nsPath)
	if err != nil {
		return nil, true, err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return nil, true, fmt.Errorf("enter %s: %w", nsPath, err)
	}
	// An IP literal dials on this goroutine (no resolver, no parallel
	// attempts), so the socket is made here.
	var d net.Dialer
	conn, err = d.DialContext(ctx, network, addr)
	return conn, unix.Setns(int(own.Fd()), unix.CLONE_NEWNET) == nil, err
}

// httpClientIn is an HTTP client whose connections start in the network
// namespace at nsPath. tlsConfig may be nil.
func httpClientIn(nsPath string, tlsConfig *tls.Config) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext:       dialIn(nsPath),
			TLSClientConfig:   tlsConfig,
			DisableKeepAlives: true,
		},
	}
}

// getIn fetches url from inside the network namespace at nsPath and
// returns the body of a 200 answer.
func getIn(ctx context.Context, nsPath, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := httpClientIn(nsPath, nil).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return string(body), fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(body), nil
}

// getInEventually retries getIn until it succeeds or timeout passes (a
// pod's server may need a moment after the container starts).
func getInEventually(nsPath, url string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		attempt, stop := context.WithTimeout(ctx, 3*time.Second)
		body, err := getIn(attempt, nsPath, url)
		stop()
		if err == nil {
			return body, nil
		}
		select {
		case <-ctx.Done():
			return body, fmt.Errorf("%w (gave up after %v)", err, timeout)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
