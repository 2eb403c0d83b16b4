package cluster

import (
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/tugcluster/tug/pkg/cluster/pki"
)

// A long-running request (a watch) must not hold shutdown until its
// timeout: after the grace period its context is cancelled.
func TestShutdownEndsLongRunningRequests(t *testing.T) {
	bundle, err := pki.Ensure(pki.Options{Dir: filepath.Join(t.TempDir(), "pki"), Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		close(started)
		<-r.Context().Done()
	})
	srv := newHTTPServer(handler, bundle, slog.New(slog.DiscardHandler))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveDone := make(chan error, 1)
	go func() { serveDone <- srv.serve(ln) }()

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: bundle.CAPool}}}
	defer client.CloseIdleConnections()
	resp, err := client.Get("https://" + ln.Addr().String() + "/watch")
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	<-started

	begin := time.Now()
	if err := srv.shutdown(30 * time.Second); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	if took := time.Since(begin); took > 10*time.Second {
		t.Errorf("shutdown took %v with a long-running request open", took)
	}
	if err := <-serveDone; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("serve returned %v, want http.ErrServerClosed", err)
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Logf("reading the ended response: %v", err)
	}
}
