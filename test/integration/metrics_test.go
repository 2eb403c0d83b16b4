package integration

import (
	"context"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	"github.com/tugcluster/tug/pkg/agent"
	"github.com/tugcluster/tug/pkg/agent/runtime"
	"github.com/tugcluster/tug/pkg/agent/runtime/fake"
	"github.com/tugcluster/tug/pkg/agent/server"
	"github.com/tugcluster/tug/pkg/agent/server/servertest"
	"github.com/tugcluster/tug/pkg/apiserver"
	"github.com/tugcluster/tug/pkg/cluster/pki"
)

// usageRuntime is the streaming test runtime whose containers all report
// the CPU usage the test sets.
type usageRuntime struct {
	*servertest.Runtime
	milliCPU atomic.Int64
}

func (r *usageRuntime) ContainerStats(ctx context.Context, id string) (runtime.Stats, error) {
	st, err := r.Runtime.ContainerStats(ctx, id)
	st.CPUUsageNanoCores = uint64(r.milliCPU.Load()) * 1_000_000
	return st, err
}

// metricsCluster is an API server over the shared etcd that can reach
// node agents, with a short metrics resolution, and one simulated node
// serving usage figures the test controls.
type metricsCluster struct {
	config *rest.Config
	client *kubernetes.Clientset
	node   string
	rt     *usageRuntime
}

func newMetricsCluster(t *testing.T, node string, cidr string) *metricsCluster {
	t.Helper()
	bundle, err := pki.Ensure(pki.Options{Dir: filepath.Join(t.TempDir(), "pki"), Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := apiserver.New(apiserver.Config{
		Etcd:              cluster.etcd,
		Tokens:            map[string]apiserver.User{adminToken: {Name: "admin", Groups: []string{"system:masters"}}},
		KubeletClientCert: &bundle.KubeletClient,
		MetricsResolution: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	apiDone := make(chan error, 1)
	go func() { apiDone <- srv.Run(runCtx) }()
	select {
	case <-srv.Ready():
	case err := <-apiDone:
		t.Fatalf("apiserver: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("apiserver not ready")
	}
	hs := httptest.NewServer(srv.Handler())
	mc := &metricsCluster{node: node}
	mc.config = &rest.Config{Host: hs.URL, BearerToken: adminToken, QPS: 1000, Burst: 1000}
	mc.client = kubernetes.NewForConfigOrDie(mc.config)

	f, err := fake.New(fake.Options{PodCIDR: netip.MustParsePrefix(cidr)})
	if err != nil {
		t.Fatal(err)
	}
	mc.rt = &usageRuntime{Runtime: &servertest.Runtime{Runtime: f, LogDir: t.TempDir()}}
	mc.rt.milliCPU.Store(100)
	agentSrv, err := server.New(server.Config{DataDir: t.TempDir(), NodeName: node, ClientCA: bundle.CAPool, Runtime: mc.rt})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(cluster.client, mc.rt, agent.Options{
		NodeName:    node,
		Addresses:   []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}},
		KubeletPort: int32(ln.Addr().(*net.TCPAddr).Port),
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	serverDone, agentDone := make(chan error, 1), make(chan error, 1)
	go func() { serverDone <- agentSrv.Serve(runCtx, ln) }()
	go func() { agentDone <- a.Run(runCtx) }()
	t.Cleanup(func() {
		hs.Close()
		stop()
		for _, ch := range []chan error{serverDone, agentDone, apiDone} {
			if err := <-ch; err != nil {
				t.Errorf("node %s: %v", node, err)
			}
		}
		_ = cluster.client.CoreV1().Nodes().Delete(context.Background(), node, metav1.DeleteOptions{})
		_ = cluster.client.CoordinationV1().Leases(agent.LeaseNamespace).Delete(context.Background(), node, metav1.DeleteOptions{})
	})
	return mc
}

// podOn is a pod bound to node requesting cpu.
func podOn(name, node, cpu string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{
			Name: "app", Image: "app:1",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}},
		}}},
	}
}

func TestMetricsAPIServesNodeAndPodUsage(t *testing.T) {
	mc := newMetricsCluster(t, "metrics-node", "10.42.97.0/24")
	ns := newNamespace(t)
	for _, p := range []*corev1.Pod{
		podOn("web", mc.node, "100m", map[string]string{"app": "web"}),
		podOn("db", mc.node, "100m", map[string]string{"app": "db"}),
		podOn("nowhere", "no-such-node", "100m", map[string]string{"app": "web"}),
	} {
		if _, err := cluster.client.CoreV1().Pods(ns).Create(ctx(t), p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	// Discovery is what `kubectl top` checks first.
	groups, err := mc.client.Discovery().ServerGroups()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, g := range groups.Groups {
		if g.Name == "metrics.k8s.io" && g.PreferredVersion.Version == "v1beta1" {
			found = true
		}
	}
	if !found {
		t.Fatalf("metrics.k8s.io/v1beta1 not in discovery: %+v", groups.Groups)
	}
	rl, err := mc.client.Discovery().ServerResourcesForGroupVersion("metrics.k8s.io/v1beta1")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rl.APIResources {
		names = append(names, r.Name+":"+r.Kind)
	}
	if want := []string{"nodes:NodeMetrics", "pods:PodMetrics"}; !slices.Equal(names, want) {
		t.Errorf("resources = %v, want %v", names, want)
	}

	// The typed client kubectl top uses.
	metrics := metricsclient.NewForConfigOrDie(mc.config).MetricsV1beta1()
	eventually(t, 15*time.Second, func() (bool, string) {
		pm, err := metrics.PodMetricses(ns).Get(ctx(t), "web", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return len(pm.Containers) == 1, "containers: " + pm.String()
	})
	pm, err := metrics.PodMetricses(ns).Get(ctx(t), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := pm.Containers[0]; c.Name != "app" || c.Usage.Cpu().MilliValue() != 100 || c.Usage.Memory().Value() != servertest.MemoryBytes {
		t.Errorf("usage of web = %+v, want app using 100m cpu and %d bytes", c, servertest.MemoryBytes)
	}
	if pm.Window.Duration <= 0 || pm.Timestamp.IsZero() || pm.Labels["app"] != "web" {
		t.Errorf("web metrics: window %v, timestamp %v, labels %v", pm.Window, pm.Timestamp, pm.Labels)
	}

	list, err := metrics.PodMetricses(ns).List(ctx(t), metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || list.Items[0].Name != "web" {
		t.Errorf("list app=web: %v, want only web (nowhere has no metrics)", list.Items)
	}
	if _, err := metrics.PodMetricses(ns).Get(ctx(t), "nowhere", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("pod without metrics: %v, want NotFound", err)
	}
	if _, err := metrics.PodMetricses(ns).Get(ctx(t), "absent", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("absent pod: %v, want NotFound", err)
	}

	// Usage changes show after the resolution period.
	mc.rt.milliCPU.Store(300)
	eventually(t, 5*time.Second, func() (bool, string) {
		nm, err := metrics.NodeMetricses().Get(ctx(t), mc.node, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		// Two running containers of 300m each, possibly plus other tests' pods.
		return nm.Usage.Cpu().MilliValue() >= 600, "node usage " + nm.Usage.Cpu().String()
	})
	nodes, err := metrics.NodeMetricses().List(ctx(t), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(nodes.Items, func(n metricsv1beta1.NodeMetrics) bool { return n.Name == mc.node }) {
		t.Errorf("node list lacks %s", mc.node)
	}
}
