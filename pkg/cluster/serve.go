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
	log           *slog.Logger
}

// stuckAfterCancel is how long requests may take to return once their
// contexts were cancelled before their connections are closed under them.
const stuckAfterCancel = 2 * time.Second

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
	return &httpServer{srv: srv, cancelRequest: cancel, log: log}
}

// serve blocks until the server is shut down (http.ErrServerClosed) or the
// listener fails.
func (s *httpServer) serve(ln net.Listener) error {
	return s.srv.ServeTLS(ln, "", "")
}

// shutdown stops accepting connections, lets requests finish for up to
// requestGrace, then cancels the contexts of all requests (ending watches
// and other long-running ones). Connections whose requests still have not
// returned shortly after are closed: a stream the peer stopped reading
// must not hold the shutdown until its timeout.
func (s *httpServer) shutdown(timeout time.Duration) error {
	wait := min(timeout, requestGrace+stuckAfterCancel)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	grace := time.AfterFunc(min(requestGrace, timeout), s.cancelRequest)
	defer grace.Stop()
	defer s.cancelRequest()
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		s.log.Warn("closing connections whose requests did not end at shutdown", "waited", wait)
		if err := s.srv.Close(); err != nil {
			return fmt.Errorf("HTTP shutdown: %w", err)
		}
		return nil
	}
	return err
}
