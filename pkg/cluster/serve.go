package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/tugcluster/tug/pkg/cluster/pki"
)

// requestGrace is how long ordinary requests get to finish after shutdown
// starts before the contexts of all requests are cancelled, which ends
// long-running ones (watches) that would otherwise hold Shutdown until its
// timeout.
const requestGrace = time.Second

// httpServer serves the API over TLS. A client certificate is verified when
// one is offered; the API server decides what an unauthenticated request
// may do.
type httpServer struct {
	srv           *http.Server
	cancelRequest context.CancelFunc
}

func newHTTPServer(h http.Handler, bundle *pki.Bundle, log *slog.Logger) *httpServer {
	reqCtx, cancel := context.WithCancel(context.Background())
	srv := &http.Server{
		Handler: h,
		TLSConfig: &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{bundle.Serving},
			ClientAuth:   tls.VerifyClientCertIfGiven,
			ClientCAs:    bundle.CAPool,
		},
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    1 << 20,
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	return &httpServer{srv: srv, cancelRequest: cancel}
}

// serve blocks until the server is shut down (http.ErrServerClosed) or the
// listener fails.
func (s *httpServer) serve(ln net.Listener) error {
	return s.srv.ServeTLS(ln, "", "")
}

// shutdown stops accepting connections, lets requests finish for up to
// timeout (cancelling long-running ones after requestGrace), then closes
// whatever is left.
func (s *httpServer) shutdown(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	grace := time.AfterFunc(min(requestGrace, timeout), s.cancelRequest)
	defer grace.Stop()
	defer s.cancelRequest()
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		_ = s.srv.Close()
		return fmt.Errorf("HTTP shutdown: requests still running after %s", timeout)
	}
	return err
}
