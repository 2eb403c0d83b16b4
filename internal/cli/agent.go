package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tugcluster/tug/pkg/agent"
	"github.com/tugcluster/tug/pkg/agent/realnode"
	"github.com/tugcluster/tug/pkg/agent/runtime"
	"github.com/tugcluster/tug/pkg/agent/runtime/fake"
)

type agentFlags struct {
	server, token, caFile, nodeName, dataDir string
	insecure                                 bool
	podCIDR                                  netip.Prefix
	clusterCIDR, serviceCIDR                 netip.Prefix
	containerdAddress, bridge, cgroupParent  string
	localPathDirs                            []string
	kubeletPort                              int
	cleanup                                  bool
	simulate                                 int
	simCPU, simMemory                        string
	simPods                                  int
	simPool                                  netip.Prefix
	logLevel                                 slog.Level
}

func newAgentCommand() *cobra.Command {
	f := &agentFlags{}
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run a node agent (or, with --simulate, many simulated nodes) against a tug server",
		Long: "Registers this machine as a Node of the cluster at --server, renews its Lease, and runs " +
			"the pods bound to it with containerd (a private containerd is started unless " +
			"--containerd-address names a running one). It needs root: it creates the pod bridge " +
			"(--bridge), an unreachable route for the cluster's pod network, a route of the service " +
			"network to a local drop device, and host-gw routes to other nodes. SIGTERM stops the agent " +
			"and its containerd; containers keep running and are adopted at the next start. --cleanup " +
			"removes the routes, the bridge, the network namespaces and CNI leases and exits. " +
			"With --simulate N it registers N simulated nodes sim-0 … sim-<N-1> " +
			"whose pods run in an in-memory runtime (for tests and scale benchmarks); their pod CIDRs " +
			"are /24s of 10.42.0.0/16, or of 10.64.0.0/10 beyond 256 nodes (--sim-pod-pool overrides).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAgent(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.server, "server", "", "URL of the tug server, e.g. https://10.0.0.1:6443")
	fl.StringVar(&f.token, "token", "", "join token (default: the contents of <data-dir>/token when present)")
	fl.StringVar(&f.caFile, "ca-file", "", "CA bundle verifying the server (default <data-dir>/pki/ca.crt when present)")
	fl.BoolVar(&f.insecure, "insecure-skip-tls-verify", false, "do not verify the server's certificate (tests only)")
	fl.StringVar(&f.nodeName, "node-name", "", "name of this node (default: the host name)")
	fl.StringVar(&f.dataDir, "data-dir", "", "directory of the agent's state (default "+realnode.DefaultDataDir+"; with --simulate the server's data directory, from $"+DataDirEnv+")")
	fl.Var(prefixValue{&f.podCIDR}, "pod-cidr", "pod CIDR of this node (default: wait for the one the server assigns)")
	f.clusterCIDR, f.serviceCIDR = realnode.DefaultClusterCIDR, realnode.DefaultServiceCIDR
	fl.Var(prefixValue{&f.clusterCIDR}, "cluster-cidr", "the cluster's whole pod network (routed unreachable outside the node's own range and its peers')")
	fl.Var(prefixValue{&f.serviceCIDR}, "service-cidr", "the cluster's Service network (routed to a local drop device)")
	fl.StringVar(&f.containerdAddress, "containerd-address", "", "socket of a running containerd (default: start one under <data-dir>/containerd)")
	fl.IntVar(&f.kubeletPort, "kubelet-port", 10250, "port of the agent's streaming API (logs, exec, port-forward)")
	fl.StringVar(&f.bridge, "bridge", "tug0", "name of the pod bridge")
	fl.StringVar(&f.cgroupParent, "cgroup-parent", "/tug", "cgroup every pod of this node lives under (one per agent on a shared machine)")
	fl.StringSliceVar(&f.localPathDirs, "local-path-dir", nil, "directories local-path volumes of this node may live in; released ones are deleted only there (default /var/lib/tug/storage; repeatable)")
	fl.BoolVar(&f.cleanup, "cleanup", false, "remove the routes, bridge, network namespaces and CNI leases the agent installed, then exit")
	fl.IntVar(&f.simulate, "simulate", 0, "run this many simulated nodes instead of a real one")
	fl.StringVar(&f.simCPU, "sim-cpu", "32", "cpu capacity of each simulated node")
	fl.StringVar(&f.simMemory, "sim-memory", "256Gi", "memory capacity of each simulated node")
	fl.IntVar(&f.simPods, "sim-pods", agent.DefaultMaxPods, "pod capacity of each simulated node")
	fl.Var(prefixValue{&f.simPool}, "sim-pod-pool", "CIDR split into one /24 per simulated node")
	fl.Var(levelValue{&f.logLevel}, "log-level", "log level: debug, info, warn or error")
	return cmd
}

func runAgent(cmd *cobra.Command, f *agentFlags) error {
	if f.simulate < 0 {
		return errors.New("--simulate must not be negative")
	}
	if f.simulate == 0 {
		return runRealAgent(cmd, f)
	}
	if f.dataDir == "" {
		f.dataDir = dataDirDefault()
	}
	cfg, err := agentRESTConfig(f)
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("client for %s: %w", f.server, err)
	}
	capacity, err := simCapacity(f)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: f.logLevel}))
	fleet, err := agent.NewFleet(client, agent.FleetOptions{
		Count: f.simulate, Capacity: capacity, PodPool: f.simPool,
		NewRuntime: func(_ string, cidr netip.Prefix) (runtime.Runtime, error) {
			return fake.New(fake.Options{PodCIDR: cidr})
		},
		Template: agent.Options{Logger: logger},
	})
	if err != nil {
		return err
	}
	parent := cmd.Context()
	if parent == nil {
		parent = context.Background()
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(cmd.OutOrStdout(), "running %d simulated nodes against %s\n", f.simulate, f.server)
	return fleet.Run(ctx)
}

func simCapacity(f *agentFlags) (corev1.ResourceList, error) {
	cpu, err := resource.ParseQuantity(f.simCPU)
	if err != nil {
		return nil, fmt.Errorf("--sim-cpu %q: %w", f.simCPU, err)
	}
	mem, err := resource.ParseQuantity(f.simMemory)
	if err != nil {
		return nil, fmt.Errorf("--sim-memory %q: %w", f.simMemory, err)
	}
	if f.simPods <= 0 {
		return nil, errors.New("--sim-pods must be positive")
	}
	return corev1.ResourceList{
		corev1.ResourceCPU:              cpu,
		corev1.ResourceMemory:           mem,
		corev1.ResourcePods:             *resource.NewQuantity(int64(f.simPods), resource.DecimalSI),
		corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}, nil
}

// agentRESTConfig builds the client config from the flags: bearer token
// and the cluster CA.
func agentRESTConfig(f *agentFlags) (*rest.Config, error) {
	if f.server == "" {
		return nil, errors.New("--server is required (the URL tug server printed)")
	}
	token := f.token
	if token == "" {
		b, err := os.ReadFile(filepath.Join(f.dataDir, "token"))
		if err != nil {
			return nil, errors.New("--token is required (tug server writes it to <data-dir>/token)")
		}
		token = strings.TrimSpace(string(b))
	}
	// A simulated fleet shares one client: each node renews its Lease every
	// 10 s and writes pod status, so the budget grows with the fleet.
	qps := max(float32(200), float32(f.simulate)/2)
	cfg := &rest.Config{Host: f.server, BearerToken: token, QPS: qps, Burst: int(2 * qps), UserAgent: "tug-agent",
		ContentConfig: protobufContent}
	switch {
	case f.insecure:
		cfg.TLSClientConfig.Insecure = true
	case f.caFile != "":
		cfg.TLSClientConfig.CAFile = f.caFile
	default:
		def := filepath.Join(f.dataDir, "pki", "ca.crt")
		if _, err := os.Stat(def); err == nil {
			cfg.TLSClientConfig.CAFile = def
		}
	}
	return cfg, nil
}

// protobufContent makes an agent's client speak protobuf: a fraction of
// JSON's cost to encode and decode, on both ends of every watch event and
// status write.
var protobufContent = rest.ContentConfig{
	ContentType:        k8sruntime.ContentTypeProtobuf,
	AcceptContentTypes: k8sruntime.ContentTypeProtobuf + "," + k8sruntime.ContentTypeJSON,
}
