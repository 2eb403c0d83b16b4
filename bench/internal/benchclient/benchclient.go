package benchclient

import (
	"context"
	"fmt"
	"net"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// New returns a connected clientset for base. It lifts client-go's
// client-side rate limit and gives the client its own connection:
// client-go shares one transport between configs with equal TLS settings,
// and a Dial function of the config's own opts out of that sharing, so N
// clients behave like N separate processes. The first request (the
// server's version) is sent here, so callers do not time a TLS handshake.
func New(ctx context.Context, base *rest.Config) (*kubernetes.Clientset, error) {
	cfg := rest.CopyConfig(base)
	cfg.QPS = -1
	cfg.RateLimiter = nil
	d := &net.Dialer{Timeout: 10 * time.Second}
	cfg.Dial = d.DialContext
	if cfg.Timeout == 0 {
		cfg.Timeout = time.Minute
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", cfg.Host, err)
	}
	if _, err := cs.Discovery().RESTClient().Get().AbsPath("/version").Do(ctx).Raw(); err != nil {
		return nil, fmt.Errorf("connect to %s: %w", cfg.Host, err)
	}
	return cs, nil
}

// NewN returns n clients made by New.
func NewN(ctx context.Context, base *rest.Config, n int) ([]*kubernetes.Clientset, error) {
	cs := make([]*kubernetes.Clientset, n)
	for i := range cs {
		c, err := New(ctx, base)
		if err != nil {
			return nil, err
		}
		cs[i] = c
	}
	return cs, nil
}
