package realnode

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/tugcluster/tug/pkg/agent"
	"github.com/tugcluster/tug/pkg/agent/runtime/containerd"
	"github.com/tugcluster/tug/pkg/agent/volumes"
	"github.com/tugcluster/tug/pkg/network"
	"github.com/tugcluster/tug/test/e2e/hosts"
	testimages "github.com/tugcluster/tug/test/images"
)

// TestPodWithVolumesInHost runs the agent's pod worker over the real
// containerd runtime, pod network and volume manager inside a test host,
// against a fake API: a pod with a ConfigMap volume and env prints both,
// and deleting it leaves no namespace, mount or address lease behind.
func TestPodWithVolumesInHost(t *testing.T) {
	if !hosts.Inside(t) {
		hosts.RequireRoot(t)
		for _, bin := range []string{"containerd", "containerd-shim-runc-v2", "runc", testimages.BusyboxBinary} {
			if _, err := exec.LookPath(bin); err != nil {
				t.Skipf("needs %s: %v", bin, err)
			}
		}
		if _, err := os.Stat(filepath.Join(network.DefaultPluginDirs[0], "bridge")); err != nil {
			t.Skipf("needs containernetworking-plugins: %v", err)
		}
		br := hosts.NewBridge(t, "tugtbr0", "10.250.21.0/24")
		hosts.New(t, br, "node", "10.250.21.2/24").RunTest(t)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "tugnode-")
	if err != nil {
		t.Fatal(err)
	}
	suffix := randomSuffix()
	cgroup := "/tugtest-" + suffix
	t.Cleanup(func() {
		unmountUnder(dir)
		_ = os.RemoveAll(dir)
		containerd.RemoveCgroupParent(cgroup)
	})

	if err := network.EnsureSafetyRoutes(DefaultClusterCIDR, DefaultServiceCIDR); err != nil {
		t.Fatal(err)
	}
	cfg := Config{NodeName: "node-a", DataDir: dir, BridgeName: "tugtbr1"}
	if err := cfg.setDefaults(); err != nil {
		t.Fatal(err)
	}
	pn := newPodNetwork(cfg.netnsDir())
	if err := pn.configure(cfg.networkConfig(netip.MustParsePrefix("10.42.9.0/24"))); err != nil {
		t.Fatal(err)
	}
	rt, err := containerd.Start(ctx, containerd.Config{DataDir: dir, Network: pn, CgroupParent: cgroup, Namespace: "tugtest-" + suffix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close() })
	importBusybox(ctx, t, rt, dir, "tugtest-"+suffix)

	client := fake.NewClientset(&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "default"},
		Data:       map[string]string{"greeting": "hello from a configmap"},
	})
	vm := volumes.NewManager(client, volumes.Options{RootDir: cfg.podsDir(), NodeName: "node-a"})
	ag, err := agent.New(client, rt, agent.Options{
		NodeName: "node-a", PodCIDR: "10.42.9.0/24", Volumes: vm,
		Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.250.21.2"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	agentCtx, stopAgent := context.WithCancel(ctx)
	agentDone := make(chan error, 1)
	go func() { agentDone <- ag.Run(agentCtx) }()
	defer func() {
		stopAgent()
		if err := <-agentDone; err != nil {
			t.Errorf("agent: %v", err)
		}
	}()

	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "show", Namespace: "default", UID: "uid-show-1"},
		Spec: corev1.PodSpec{
			NodeName: "node-a", RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name: "main", Image: testimages.Busybox, ImagePullPolicy: corev1.PullIfNotPresent,
				Command: []string{"sh", "-c", `cat /etc/conf/greeting; echo; echo "env: $GREETING ip: $MY_IP"`},
				Env: []corev1.EnvVar{
					{Name: "GREETING", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
						LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "greeting"}}},
					{Name: "MY_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
				},
				VolumeMounts: []corev1.VolumeMount{{Name: "conf", MountPath: "/etc/conf"}},
			}},
			Volumes: []corev1.Volume{{Name: "conf", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}}},
		},
	}
	pods := client.CoreV1().Pods("default")
	if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var done *corev1.Pod
	for done == nil {
		p, err := pods.Get(ctx, "show", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		switch p.Status.Phase {
		case corev1.PodSucceeded:
			done = p
		case corev1.PodFailed:
			t.Fatalf("pod failed: %+v", p.Status)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("pod did not finish: %+v", p.Status)
		case <-time.After(100 * time.Millisecond):
		}
	}
	if !netip.MustParsePrefix("10.42.9.0/24").Contains(netip.MustParseAddr(done.Status.PodIP)) {
		t.Errorf("pod IP %q outside the node's pod CIDR", done.Status.PodIP)
	}
	logFile := filepath.Join(dir, "logs", "default_show_uid-show-1", "main", "0.log")
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if f := strings.SplitN(l, " ", 4); len(f) == 4 {
			lines = append(lines, f[3])
		}
	}
	want := []string{"hello from a configmap", "env: hello from a configmap ip: " + done.Status.PodIP}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("log lines = %q, want %q", lines, want)
	}

	if err := pods.Delete(ctx, "show", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		left := leftovers(t, cfg)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after deleting the pod: %s", strings.Join(left, "; "))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// leftovers names what a deleted pod left: namespace files, volume
// directories, mounts under the data directory, address leases.
func leftovers(t *testing.T, cfg Config) []string {
	t.Helper()
	var out []string
	if ids, _ := network.ListNetNS(cfg.netnsDir()); len(ids) > 0 {
		out = append(out, "netns "+strings.Join(ids, ","))
	}
	if es, _ := os.ReadDir(cfg.podsDir()); len(es) > 0 {
		out = append(out, "pod directories")
	}
	if m := mountsUnder(cfg.DataDir, "/pods/", "/netns/"); len(m) > 0 {
		out = append(out, "mounts "+strings.Join(m, ","))
	}
	leases, _ := filepath.Glob(filepath.Join(cfg.cniDir(), "ipam", "*", "10.*"))
	if len(leases) > 0 {
		out = append(out, "leases "+strings.Join(leases, ","))
	}
	return out
}

func mountsUnder(dir string, parts ...string) []string {
	b, _ := os.ReadFile("/proc/self/mounts")
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 || !strings.HasPrefix(f[1], dir+"/") {
			continue
		}
		for _, p := range parts {
			if strings.Contains(f[1], p) {
				out = append(out, f[1])
			}
		}
	}
	return out
}

func unmountUnder(dir string) {
	m := mountsUnder(dir, "/")
	for i := len(m) - 1; i >= 0; i-- {
		_ = exec.Command("umount", "-l", m[i]).Run()
	}
}

func importBusybox(ctx context.Context, t *testing.T, rt *containerd.Runtime, dir, ns string) {
	t.Helper()
	img, err := testimages.BusyboxImage()
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(testimages.Busybox)
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "busybox.tar")
	if err := testimages.WriteArchive(archive, map[name.Reference]v1.Image{tag: img}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := containerd.ImportArchive(ctx, rt.Client(), ns, f); err != nil {
		t.Fatal(err)
	}
}

func randomSuffix() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
