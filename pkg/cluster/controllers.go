package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"k8s.io/client-go/rest"

	"github.com/tugcluster/tug/pkg/controller"
	"github.com/tugcluster/tug/pkg/controller/manager"
	"github.com/tugcluster/tug/pkg/scheduler"
)

// ControllerManagerUser is the identity the in-process controller manager
// authenticates as, with a bearer token that lives only in this process.
const ControllerManagerUser = "system:kube-controller-manager"

// processToken returns a random bearer token for in-process clients.
func processToken() (string, error) {
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("generate in-process token: %w", err)
	}
	return hex.EncodeToString(buf), nil
}

// runControllers waits until the API server is ready, then runs the
// controller manager against this server's HTTPS endpoint until ctx ends.
// It returns nil when ctx ends before or after the start.
func (c *Cluster) runControllers(ctx context.Context, apiReady <-chan struct{}, token string) error {
	select {
	case <-apiReady:
	case <-ctx.Done():
		return nil
	}
	cfg := &rest.Config{
		Host:            c.url,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.pki.CACertPEM},
		UserAgent:       "tug-controller-manager",
		// In-process and shared by every controller and the scheduler
		// (one bind per pod): a low client limit would cap scheduling.
		QPS:   2000,
		Burst: 4000,
	}
	m, err := manager.New(cfg, controller.Options{
		PodCIDR:                c.opts.PodCIDR.String(),
		NodeCIDRMaskSize:       c.opts.NodeCIDRMaskSize,
		NodeMonitorGracePeriod: c.opts.NodeMonitorGracePeriod,
		PodEvictionTimeout:     c.opts.PodEvictionTimeout,
		RootCA:                 c.pki.CACertPEM,
		Logger:                 c.log.With("component", "controllers"),
	}, append(manager.Controllers(), scheduler.Controller())...)
	if err != nil {
		return err
	}
	if err := m.Run(ctx); err != nil {
		return fmt.Errorf("controller manager: %w", err)
	}
	return nil
}
