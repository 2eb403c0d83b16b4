package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/pkg/agent/realnode"
)

// realNodeConfig turns the flags into the node's configuration (without
// the client).
func realNodeConfig(f *agentFlags, logger *slog.Logger) (realnode.Config, error) {
	name := f.nodeName
	if name == "" {
		h, err := os.Hostname()
		if err != nil {
			return realnode.Config{}, fmt.Errorf("node name: %w (set --node-name)", err)
		}
		name = h
	}
	dir := f.dataDir
	if dir == "" {
		dir = realnode.DefaultDataDir
	}
	if f.kubeletPort <= 0 || f.kubeletPort > 65535 {
		return realnode.Config{}, fmt.Errorf("--kubelet-port %d out of range 1-65535", f.kubeletPort)
	}
	if f.clusterCIDR.Overlaps(f.serviceCIDR) {
		return realnode.Config{}, fmt.Errorf("--cluster-cidr %s overlaps --service-cidr %s", f.clusterCIDR, f.serviceCIDR)
	}
	if f.podCIDR.IsValid() && !f.clusterCIDR.Contains(f.podCIDR.Addr()) {
		return realnode.Config{}, fmt.Errorf("--pod-cidr %s is outside --cluster-cidr %s", f.podCIDR, f.clusterCIDR)
	}
	return realnode.Config{
		ServerURL: f.server, NodeName: name, DataDir: dir, ContainerdAddress: f.containerdAddress,
		PodCIDR: f.podCIDR, ClusterCIDR: f.clusterCIDR, ServiceCIDR: f.serviceCIDR,
		KubeletPort: f.kubeletPort, ClientCAFile: f.caFile, BridgeName: f.bridge, CgroupParent: f.cgroupParent,
		LocalPathDirs: f.localPathDirs,
		Logger:        logger,
	}, nil
}

// runRealAgent runs this machine as a node, or with --cleanup removes
// what a node installed.
func runRealAgent(cmd *cobra.Command, f *agentFlags) error {
	logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: f.logLevel}))
	klog.SetSlogLogger(logger.With("component", "client-go"))
	cfg, err := realNodeConfig(f, logger)
	if err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return errors.New("tug agent needs root (containerd, network namespaces, routes, mounts); use --simulate N for simulated nodes")
	}
	if f.cleanup {
		if err := realnode.Cleanup(cfg); err != nil {
			return fmt.Errorf("cleanup: %w", err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "removed the routes, bridge %s, network namespaces and CNI state of %s\n", cfg.BridgeName, cfg.DataDir)
		return nil
	}
	f.dataDir = cfg.DataDir
	rc, err := agentRESTConfig(f)
	if err != nil {
		return err
	}
	if cfg.Client, err = kubernetes.NewForConfig(rc); err != nil {
		return fmt.Errorf("client for %s: %w", f.server, err)
	}
	parent := cmd.Context()
	if parent == nil {
		parent = context.Background()
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(cmd.OutOrStdout(), "tug agent %s joining %s\n", cfg.NodeName, f.server)
	return realnode.Run(ctx, cfg)
}
