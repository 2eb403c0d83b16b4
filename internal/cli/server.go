package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/pkg/agent/realnode"
	"github.com/tugcluster/tug/pkg/cluster"
)

type serverFlags struct {
	opts         cluster.Options
	logLevel     slog.Level
	disableAgent bool
}

func newServerCommand() *cobra.Command {
	f := &serverFlags{opts: cluster.Options{
		ServiceCIDR:   cluster.DefaultServiceCIDR,
		PodCIDR:       cluster.DefaultPodCIDR,
		NodePortRange: cluster.DefaultNodePortRange,
	}}
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the control plane: etcd, the Kubernetes API server and its HTTPS endpoint",
		Long: "Runs a tug server. On first start it creates a CA, certificates, a join token and an " +
			"admin kubeconfig in the data directory; later starts reuse them. Unless --disable-agent, " +
			"it also runs this machine as a node (as `tug agent` does, with its state under " +
			"<data-dir>/agent and containerd's socket at <data-dir>/containerd/containerd.sock): that " +
			"needs root and installs the bridge tug0, an unreachable route for the pod network and a " +
			"route of the service network to a local drop device. Stops gracefully on SIGINT or SIGTERM; " +
			"containers keep running and are adopted at the next start.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServer(cmd, f)
		},
	}
	fl := cmd.Flags()
	o := &f.opts
	fl.StringVar(&o.DataDir, "data-dir", dataDirDefault(), "directory for certificates, etcd data, token and kubeconfig (default from $"+DataDirEnv+")")
	fl.StringVar(&o.Listen, "listen", cluster.DefaultListen, "address the API server listens on")
	fl.StringVar(&o.AdvertiseAddress, "advertise-address", "", "IP address other machines and pods reach this server at (added to the serving certificate, published as the kubernetes Service's endpoint; not loopback)")
	fl.StringSliceVar(&o.ExtraSANs, "tls-san", nil, "extra host names or IP addresses for the serving certificate (repeatable, comma-separated)")
	fl.StringSliceVar(&o.EtcdEndpoints, "etcd-endpoints", nil, "external etcd client URLs; when empty an embedded etcd runs under <data-dir>/etcd")
	fl.StringVar(&o.EtcdCAFile, "etcd-cafile", "", "CA bundle verifying external etcd servers")
	fl.StringVar(&o.EtcdCertFile, "etcd-certfile", "", "client certificate for external etcd")
	fl.StringVar(&o.EtcdKeyFile, "etcd-keyfile", "", "client key for external etcd")
	fl.IntVar(&o.EtcdClientPort, "etcd-client-port", 2379, "embedded etcd client port on 127.0.0.1 (0 picks a free port)")
	fl.IntVar(&o.EtcdPeerPort, "etcd-peer-port", 2380, "embedded etcd peer port on 127.0.0.1 (0 picks a free port)")
	fl.Var(prefixValue{&o.ServiceCIDR}, "service-cidr", "CIDR Service addresses are allocated from")
	fl.Var(prefixValue{&o.PodCIDR}, "pod-cidr", "CIDR of the pod network")
	fl.Var(portRangeValue{&o.NodePortRange}, "service-node-port-range", "ports NodePort Services are allocated from")
	fl.IntVar(&o.NodeCIDRMaskSize, "node-cidr-mask-size", 24, "prefix length of each node's share of the pod network (24: 256 nodes in a /16)")
	fl.DurationVar(&o.NodeMonitorGracePeriod, "node-monitor-grace-period", 40*time.Second, "how long a node may stop reporting before it is marked Unknown")
	fl.DurationVar(&o.PodEvictionTimeout, "pod-eviction-timeout", 5*time.Minute, "how long pods stay on a not-ready or unreachable node unless they say otherwise")
	fl.StringSliceVar(&o.ServiceAccountIssuers, "service-account-issuer", nil, "https URL that issues service account tokens (default https://kubernetes.default.svc.cluster.local); repeat to move it: the first signs, all are accepted")
	fl.BoolVar(&o.Profiling, "profiling", false, "serve Go runtime profiles at /debug/pprof/ to authenticated clients")
	fl.BoolVar(&f.disableAgent, "disable-agent", false, "run only the control plane, not a node agent on this machine")
	fl.Var(levelValue{&f.logLevel}, "log-level", "log level: debug, info, warn or error")
	return cmd
}

func runServer(cmd *cobra.Command, f *serverFlags) error {
	logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: f.logLevel}))
	// client-go (leader election, informers) logs through klog: send it to
	// the same structured log.
	klog.SetSlogLogger(logger.With("component", "client-go"))
	opts := f.opts
	opts.Logger = logger
	if !f.disableAgent {
		if os.Geteuid() != 0 {
			return errors.New("the server's local agent needs root (containerd, network namespaces, routes): run as root or with --disable-agent")
		}
		opts.LocalAgent = runLocalAgent
	}
	c, err := cluster.New(opts)
	if err != nil {
		return err
	}

	parent := cmd.Context()
	if parent == nil {
		parent = context.Background()
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	runDone := make(chan struct{})
	defer close(runDone)
	go func() {
		select {
		case <-c.Ready():
			printReady(cmd.OutOrStdout(), c, opts)
		case <-ctx.Done():
		case <-runDone:
			return
		}
		select {
		case <-ctx.Done():
			// Restore default signal handling: a second signal ends
			// the process at once if the graceful stop hangs.
			stop()
		case <-runDone:
		}
	}()
	return c.Run(ctx)
}

func printReady(w io.Writer, c *cluster.Cluster, opts cluster.Options) {
	dataDir := opts.DataDir
	kubectl := "tug kubectl"
	if dataDir != DefaultDataDir || os.Getenv(DataDirEnv) != "" {
		kubectl = fmt.Sprintf("%s=%s tug kubectl", DataDirEnv, dataDir)
	}
	fmt.Fprintf(w, "tug server is ready at %s\n", c.URL())
	fmt.Fprintf(w, "Admin kubeconfig: %s\n", c.KubeconfigPath())
	fmt.Fprintf(w, "Try: %s get nodes\n", kubectl)
	fmt.Fprintf(w, "Join other machines with: %s\n", joinCommand(c, opts))
}

// joinCommand is the `tug agent` command line for other machines: the
// advertised address, else this machine's first host address.
func joinCommand(c *cluster.Cluster, opts cluster.Options) string {
	host := opts.AdvertiseAddress
	if host == "" {
		host = "<this-machine's-address>"
		if ip, err := realnode.NodeIP(c.URL()); err == nil && !ip.IsLoopback() {
			host = ip.String()
		}
	}
	u, err := url.Parse(c.URL())
	port := "6443"
	if err == nil && u.Port() != "" {
		port = u.Port()
	}
	return fmt.Sprintf("tug agent --server https://%s --token %s --ca-file %s", net.JoinHostPort(host, port), c.Token(), c.CAFile())
}

// runLocalAgent runs this machine as a node of its own server.
func runLocalAgent(ctx context.Context, lc cluster.LocalAgentConfig) error {
	name, err := os.Hostname()
	if err != nil {
		return fmt.Errorf("node name: %w", err)
	}
	rc := &rest.Config{Host: lc.URL, BearerToken: lc.Token, QPS: 200, Burst: 400, UserAgent: "tug-agent",
		TLSClientConfig: rest.TLSClientConfig{CAFile: lc.CAFile}, ContentConfig: protobufContent}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("client for %s: %w", lc.URL, err)
	}
	return realnode.Run(ctx, realnode.Config{
		Client: client, ServerURL: lc.URL, NodeName: name, DataDir: lc.DataDir,
		ContainerdAddress: lc.ContainerdAddress, ClusterCIDR: lc.ClusterCIDR, ServiceCIDR: lc.ServiceCIDR,
		ClientCAFile: lc.CAFile, NodeIP: lc.NodeIP, Logger: lc.Logger,
	})
}
