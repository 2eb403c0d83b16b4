package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// DefaultPort is the kubelet API port.
const DefaultPort = 10250

// APIServerUser is the only client identity (certificate CN) served.
const APIServerUser = "tug:apiserver"

// Defaults of Config.
const (
	DefaultStreamIdleTimeout     = 4 * time.Hour
	DefaultStreamCreationTimeout = 30 * time.Second
)

// Config is what the server needs from the agent.
type Config struct {
	// Addr is the listen address (":10250" when empty).
	Addr string
	// DataDir keeps the self-signed serving certificate (required).
	DataDir string
	// NodeName names the node in the stats summary and the certificate.
	NodeName string
	// ClientCAFile is the cluster CA that signs the API server's client
	// certificate; ClientCA, when set, is used instead.
	ClientCAFile string
	ClientCA     *x509.CertPool
	// Runtime holds the containers; its optional interfaces decide which
	// endpoints work.
	Runtime runtime.Runtime
	// Dial opens port-forward connections to pod addresses (a net.Dialer
	// when nil); tests replace it.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// StreamIdleTimeout closes exec, attach and port-forward sessions
	// without traffic; StreamCreationTimeout bounds the wait for a
	// client's streams after the upgrade.
	StreamIdleTimeout     time.Duration
	StreamCreationTimeout time.Duration
	Logger                *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Server is the agent's HTTPS streaming API.
type Server struct {
	cfg     Config
	tls     *tls.Config
	started time.Time
}

// New checks cfg, loads the client CA and creates or loads the serving
// certificate.
func New(cfg Config) (*Server, error) {
	if cfg.Runtime == nil {
		return nil, errors.New("agent server: no runtime")
	}
	if cfg.DataDir == "" {
		return nil, errors.New("agent server: no data directory")
	}
	if cfg.Addr == "" {
		cfg.Addr = fmt.Sprintf(":%d", DefaultPort)
	}
	if cfg.Dial == nil {
		var d net.Dialer
		cfg.Dial = d.DialContext
	}
	if cfg.StreamIdleTimeout <= 0 {
		cfg.StreamIdleTimeout = DefaultStreamIdleTimeout
	}
	if cfg.StreamCreationTimeout <= 0 {
		cfg.StreamCreationTimeout = DefaultStreamCreationTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	pool := cfg.ClientCA
	if pool == nil {
		if cfg.ClientCAFile == "" {
			return nil, errors.New("agent server: no client CA")
		}
		data, err := os.ReadFile(cfg.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("agent server: client CA: %w", err)
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("agent server: client CA %s: no PEM certificate", cfg.ClientCAFile)
		}
	}
	cert, err := ensureServingCert(cfg.DataDir, cfg.NodeName, cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("agent server: %w", err)
	}
	return &Server{
		cfg: cfg,
		tls: &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{cert},
			ClientAuth:   tls.VerifyClientCertIfGiven,
			ClientCAs:    pool,
			// Upgrades (SPDY, WebSocket) need HTTP/1.1.
			NextProtos: []string{"http/1.1"},
		},
		started: cfg.Now(),
	}, nil
}

// Run listens on Config.Addr and serves until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("agent server: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves TLS on ln until ctx ends; it closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	reqCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := &http.Server{
		Handler:           s.Handler(),
		TLSConfig:         s.tls,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelDebug),
	}
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, "", "") }()
	select {
	case err := <-done:
		return fmt.Errorf("agent server: %w", err)
	case <-ctx.Done():
	}
	// Streams are long-lived: end them instead of waiting.
	cancel()
	shutdownCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
	}
	<-done
	return nil
}

// Handler is the whole API behind client authentication.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
	})
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", s.serveLogs)
	mux.HandleFunc("/exec/{namespace}/{pod}/{container}", s.serveExec)
	mux.HandleFunc("/attach/{namespace}/{pod}/{container}", s.serveAttach)
	mux.HandleFunc("/portforward/{namespace}/{pod}", s.servePortForward)
	mux.HandleFunc("GET /stats/summary", s.serveSummary)
	return s.authenticate(mux)
}

// authenticate admits only a verified client certificate naming the API
// server.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
			writeError(w, errUnauthorized())
			return
		}
		if cn := r.TLS.VerifiedChains[0][0].Subject.CommonName; cn != APIServerUser {
			writeError(w, errForbidden(cn))
			return
		}
		next.ServeHTTP(w, r)
	})
}
