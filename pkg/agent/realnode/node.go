package realnode

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/pkg/agent"
	"github.com/tugcluster/tug/pkg/agent/localpath"
	"github.com/tugcluster/tug/pkg/agent/runtime/containerd"
	"github.com/tugcluster/tug/pkg/agent/server"
	"github.com/tugcluster/tug/pkg/agent/volumes"
	"github.com/tugcluster/tug/pkg/network"
)

// ErrTokenRefused: the API server did not accept the join token.
var ErrTokenRefused = errors.New("the server refused the join token")

// Run starts the node and runs it until ctx ends. On return the private
// containerd (if Run started one) is stopped; containers keep running
// under their shims and are adopted by the next Run.
func Run(ctx context.Context, cfg Config) (err error) {
	if err := cfg.setDefaults(); err != nil {
		return err
	}
	log := cfg.Logger.With("node", cfg.NodeName)
	if err := os.MkdirAll(cfg.DataDir, 0o711); err != nil {
		return fmt.Errorf("node data directory: %w", err)
	}
	if err := checkToken(ctx, cfg); err != nil {
		return err
	}
	nodeIP := cfg.NodeIP
	if !nodeIP.IsValid() {
		if nodeIP, err = NodeIP(cfg.ServerURL); err != nil {
			return err
		}
	}
	if err := network.EnsureSafetyRoutes(cfg.ClusterCIDR, cfg.ServiceCIDR); err != nil {
		return err
	}

	pn := newPodNetwork(cfg.netnsDir())
	if cfg.PodCIDR.IsValid() {
		if err := pn.configure(cfg.networkConfig(cfg.PodCIDR.Masked())); err != nil {
			return err
		}
	}
	rt, err := containerd.Start(ctx, containerd.Config{
		Address: cfg.ContainerdAddress, DataDir: cfg.DataDir, Network: pn, CgroupParent: cfg.CgroupParent,
	})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := rt.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("stop containerd: %w", cerr)
		}
	}()

	vm := volumes.NewManager(cfg.Client, volumes.Options{RootDir: cfg.podsDir(), NodeName: cfg.NodeName, Logger: log})
	opts := agent.Options{
		NodeName:    cfg.NodeName,
		Capacity:    Capacity(cfg.DataDir),
		Addresses:   []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: nodeIP.String()}},
		KubeletPort: int32(cfg.KubeletPort),
		Volumes:     vm,
		Health:      nodeHealth(pn, cfg.DataDir),
		Logger:      log,
	}
	if hn, herr := os.Hostname(); herr == nil {
		opts.Addresses = append(opts.Addresses, corev1.NodeAddress{Type: corev1.NodeHostName, Address: hn})
	}
	if cfg.PodCIDR.IsValid() {
		opts.PodCIDR = cfg.PodCIDR.Masked().String()
	}
	ag, err := agent.New(cfg.Client, rt, opts)
	if err != nil {
		return err
	}
	srv, err := server.New(server.Config{
		Addr: fmt.Sprintf(":%d", cfg.KubeletPort), DataDir: cfg.serverDir(), NodeName: cfg.NodeName,
		ClientCAFile: cfg.ClientCAFile, Runtime: rt, Logger: log.With("component", "agent-server"),
	})
	if err != nil {
		return err
	}
	cleaner, err := localpath.New(cfg.Client, cfg.NodeName, localpath.Options{BaseDirs: cfg.LocalPathDirs, Logger: log})
	if err != nil {
		return err
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 5)
	start := func(name string, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(runCtx); err != nil && runCtx.Err() == nil {
				errc <- fmt.Errorf("%s: %w", name, err)
				cancel()
			}
		}()
	}
	start("agent", ag.Run)
	start("volumes", vm.Run)
	start("streaming server", srv.Run)
	start("local-path cleaner", cleaner.Run)
	start("node network", func(ctx context.Context) error { return watchNodes(ctx, cfg, pn, ag.CheckStatus, log) })
	log.Info("node agent running", "address", nodeIP, "data-dir", cfg.DataDir)
	<-runCtx.Done()
	wg.Wait()
	close(errc)
	return <-errc
}

// checkToken asks the server for this Node: a 401 means the token is
// wrong, which retrying cannot fix. Unreachable servers are retried
// until ctx ends.
func checkToken(ctx context.Context, cfg Config) error {
	delay := 200 * time.Millisecond
	for {
		_, err := cfg.Client.CoreV1().Nodes().Get(ctx, cfg.NodeName, metav1.GetOptions{})
		switch {
		case err == nil, apierrors.IsNotFound(err), apierrors.IsForbidden(err):
			return nil
		case apierrors.IsUnauthorized(err):
			return fmt.Errorf("%w (%s)", ErrTokenRefused, cfg.ServerURL)
		}
		cfg.Logger.Warn("reach the server", "server", cfg.ServerURL, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("reach the server %s: %w", cfg.ServerURL, err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// peerRoutes is the host-gw route map of the other nodes: their pod CIDR
// via their InternalIP.
func peerRoutes(self string, nodes []corev1.Node) map[netip.Prefix]netip.Addr {
	out := map[netip.Prefix]netip.Addr{}
	for _, n := range nodes {
		if n.Name == self || n.Spec.PodCIDR == "" {
			continue
		}
		cidr, err := netip.ParsePrefix(n.Spec.PodCIDR)
		if err != nil {
			continue
		}
		for _, a := range n.Status.Addresses {
			if a.Type != corev1.NodeInternalIP {
				continue
			}
			if ip, err := netip.ParseAddr(a.Address); err == nil && ip.Is4() {
				out[cidr.Masked()] = ip
				break
			}
		}
	}
	return out
}
