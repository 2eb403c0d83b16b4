//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/test/e2e/hosts"
)

// The test network: a switch with the server host and the node hosts.
// Every address lives only inside the test's namespaces.
const (
	switchCIDR = "10.250.7.0/24"
	serverIP   = "10.250.7.2"
	apiPort    = "6443"
	// testNS is the namespace the tests' objects live in.
	testNS = "e2e"
)

// cluster is a tug server and real agents, each in its own test host, all
// started from the built binary. Everything it creates lives under dir or
// in its hosts' namespaces and is removed when the test ends.
type cluster struct {
	t        *testing.T
	bin      string
	dir      string
	server   *serverHost
	nodes    []*agentHost
	api      *apiClient
	registry string // host:port of the image registry; "" when images were imported
	archive  string // image archive for imports; "" when a registry serves them

	registryProc *proc
}

type serverHost struct {
	host    *hosts.Host
	dataDir string
	proc    *proc
}

type agentHost struct {
	name    string
	host    *hosts.Host
	dataDir string
	args    []string
	proc    *proc
	starts  int
}

// requireCluster skips t unless everything a real cluster needs is here:
// root, the binary (TUG_BIN), a tug agent with the containerd runtime,
// containerd, runc, ctr and the CNI plugins.
func requireCluster(t *testing.T) string {
	t.Helper()
	bin := tugBinary(t)
	hosts.RequireRoot(t)
	for _, tool := range []string{"containerd", "containerd-shim-runc-v2", "runc", "ctr"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s: %v", tool, err)
		}
	}
	for _, plugin := range []string{"bridge", "host-local", "loopback", "portmap"} {
		if _, err := os.Stat(filepath.Join("/usr/lib/cni", plugin)); err != nil {
			t.Skipf("needs the CNI plugins (containernetworking-plugins): %v", err)
		}
	}
	if !helpMentions(bin, "--containerd-address", "agent") {
		t.Skip("this tug agent has no containerd runtime (no --containerd-address)")
	}
	return bin
}

// helpMentions reports whether `tug <cmd...> --help` mentions flag.
func helpMentions(bin, flag string, cmd ...string) bool {
	out, _ := exec.Command(bin, append(cmd, "--help")...).CombinedOutput()
	return strings.Contains(string(out), flag)
}

// startCluster starts a server and n agents (node-1 … node-n) and makes
// the test images available to every node, through a registry in the
// server host when docker-registry is installed, by import otherwise
// (TUG_E2E_IMAGES=import forces the import). It returns once every node
// is Ready.
func startCluster(t *testing.T, n int) *cluster {
	bin := requireCluster(t)
	began := time.Now()
	dir, err := os.MkdirTemp("", "tug-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, bin: bin, dir: dir}
	// Registered first, so it runs last: after the hosts are gone.
	t.Cleanup(c.removeDir)

	sw := hosts.NewBridge(t, "sw0", switchCIDR)
	c.server = &serverHost{host: hosts.New(t, sw, "srv", serverIP+"/24"), dataDir: filepath.Join(dir, "server")}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("node-%d", i)
		c.nodes = append(c.nodes, &agentHost{
			name:    name,
			host:    hosts.New(t, sw, fmt.Sprintf("n%d", i), fmt.Sprintf("10.250.7.%d/24", 10+i)),
			dataDir: filepath.Join(dir, name),
		})
	}
	// Runs before the hosts' own cleanups: processes stop, then the
	// namespaces go.
	t.Cleanup(c.teardown)

	c.startServer()
	images := c.prepareImages()
	for i, a := range c.nodes {
		c.startAgent(a, i+1)
	}
	for _, a := range c.nodes {
		c.waitNodeReady(a, 60*time.Second)
		if c.archive != "" {
			c.importImages(a)
		}
	}
	c.mustKubectl("create", "namespace", testNS)
	t.Logf("cluster of %d nodes ready in %v (images: %s)", n, time.Since(began).Round(time.Millisecond), images)
	return c
}

func (c *cluster) startServer() {
	t, s := c.t, c.server
	if err := os.MkdirAll(s.dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	args := []string{"server", "--data-dir", s.dataDir,
		"--listen", serverIP + ":" + apiPort, "--advertise-address", serverIP}
	if helpMentions(c.bin, "--disable-agent", "server") {
		args = append(args, "--disable-agent")
	}
	p, err := startProc(s.host, "server", filepath.Join(c.dir, "server.log"), c.bin, args...)
	if err != nil {
		t.Fatal(err)
	}
	s.proc = p
	kubeconfig := filepath.Join(s.dataDir, "admin.kubeconfig")
	err = poll(30*time.Second, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		if !p.running() {
			return false, errors.New("tug server exited")
		}
		if c.api == nil {
			api, err := newAPIClient(kubeconfig, s.host.Path())
			if err != nil {
				return false, err
			}
			c.api = api
		}
		var v map[string]any
		return c.api.get(ctx, "/version", &v) == nil, nil
	})
	if err != nil {
		t.Fatalf("tug server not serving: %v\n%s", err, p.tail(40))
	}
}

// startAgent starts (or restarts) the agent of a, the k-th node.
func (c *cluster) startAgent(a *agentHost, k int) {
	t := c.t
	if a.args == nil {
		token, err := os.ReadFile(filepath.Join(c.server.dataDir, "token"))
		if err != nil {
			t.Fatalf("join token: %v", err)
		}
		if err := os.MkdirAll(a.dataDir, 0o700); err != nil {
			t.Fatal(err)
		}
		if c.registry != "" {
			writeRegistriesYAML(t, a.dataDir, c.registry)
		}
		a.args = []string{"agent",
			"--server", "https://" + serverIP + ":" + apiPort,
			"--token", strings.TrimSpace(string(token)),
			"--ca-file", filepath.Join(c.server.dataDir, "pki", "ca.crt"),
			"--node-name", a.name,
			"--data-dir", a.dataDir,
			"--pod-cidr", fmt.Sprintf("10.42.%d.0/24", k),
		}
		if level := os.Getenv("TUG_E2E_LOG_LEVEL"); level != "" {
			a.args = append(a.args, "--log-level", level)
		}
	}
	a.starts++
	p, err := startProc(a.host, a.name, filepath.Join(c.dir, a.name+".log"), c.bin, a.args...)
	if err != nil {
		t.Fatal(err)
	}
	a.proc = p
}

// restartAgent stops a's agent with SIGTERM (failing the test if it needs
// a SIGKILL) and starts it again.
func (c *cluster) restartAgent(a *agentHost) {
	c.t.Helper()
	if killed := a.proc.stop(30 * time.Second); killed {
		c.t.Errorf("agent %s ignored SIGTERM for 30s:\n%s", a.name, a.proc.tail(30))
	}
	c.startAgent(a, 0)
}

func (c *cluster) waitNodeReady(a *agentHost, timeout time.Duration) {
	c.t.Helper()
	err := poll(timeout, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		if !a.proc.running() {
			return false, errors.New("tug agent exited")
		}
		n, err := c.api.node(ctx, a.name)
		if err != nil {
			return false, err
		}
		return nodeReady(n), fmt.Errorf("node %s not Ready: %+v", a.name, n.Status.Conditions)
	})
	if err != nil {
		c.t.Fatalf("node %s: %v\n%s", a.name, err, a.proc.tail(40))
	}
}

// containerdSocket finds the socket of the containerd a's agent started
// (somewhere under its data dir).
func (a *agentHost) containerdSocket() (string, error) {
	var found string
	err := filepath.WalkDir(a.dataDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.Type()&fs.ModeSocket != 0 && d.Name() == "containerd.sock" {
			found = p
			return fs.SkipAll
		}
		return nil
	})
	if err == nil && found == "" {
		err = fmt.Errorf("no containerd.sock under %s", a.dataDir)
	}
	return found, err
}

// ctr runs Debian's ctr against a's containerd in the tug namespace.
func (c *cluster) ctr(a *agentHost, args ...string) (string, error) {
	sock, err := a.containerdSocket()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ctr", append([]string{"--address", sock, "--namespace", "tug"}, args...)...).CombinedOutput()
	return string(out), err
}

// containers lists the ids of the containers in a's containerd.
func (c *cluster) containers(a *agentHost) ([]string, error) {
	out, err := c.ctr(a, "containers", "list", "--quiet")
	if err != nil {
		return nil, fmt.Errorf("ctr containers list: %w: %s", err, out)
	}
	return strings.Fields(out), nil
}

// kubectl runs `tug kubectl` inside the server host with the admin
// kubeconfig; stdin may be empty.
func (c *cluster) kubectl(stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := c.kubectlCommand(ctx, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (c *cluster) kubectlCommand(ctx context.Context, args ...string) *exec.Cmd {
	cmd := c.server.host.Command(ctx, c.bin, append([]string{"kubectl"}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(c.server.dataDir, "admin.kubeconfig"))
	return cmd
}

func (c *cluster) mustKubectl(args ...string) string {
	c.t.Helper()
	out, err := c.kubectl("", args...)
	if err != nil {
		c.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// apply creates or updates the objects of a YAML stream.
func (c *cluster) apply(t *testing.T, manifest string) {
	t.Helper()
	if out, err := c.kubectl(manifest, "apply", "-f", "-"); err != nil {
		t.Fatalf("kubectl apply: %v\n%s\n%s", err, out, manifest)
	}
}

// waitPod polls the pod in testNS until cond holds, failing t with the
// pod's state, the namespace's events and the node's agent log otherwise.
func (c *cluster) waitPod(t *testing.T, name, what string, timeout time.Duration, cond func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	var last *corev1.Pod
	err := poll(timeout, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		p, err := c.api.pod(ctx, testNS, name)
		if err != nil {
			return false, err
		}
		last = p
		return cond(p), nil
	})
	if err != nil {
		c.failPod(t, name, last, fmt.Sprintf("pod %s: %s: %v", name, what, err))
	}
	return last
}

// failPod fails t with everything that explains the pod's state.
func (c *cluster) failPod(t *testing.T, name string, p *corev1.Pod, msg string) {
	t.Helper()
	yamlOut, _ := c.kubectl("", "-n", testNS, "get", "pod", name, "-o", "yaml")
	events, _ := c.kubectl("", "-n", testNS, "get", "events", "--field-selector", "involvedObject.name="+name)
	var agentLog string
	if p != nil {
		if a := c.node(p.Spec.NodeName); a != nil {
			agentLog = a.proc.tail(40)
		}
	}
	t.Fatalf("%s\n--- pod:\n%s\n--- events:\n%s\n--- agent log:\n%s", msg, yamlOut, events, agentLog)
}

// waitPodGone polls until the pod no longer exists and returns how long
// that took.
func (c *cluster) waitPodGone(t *testing.T, name string, timeout time.Duration) time.Duration {
	t.Helper()
	began := time.Now()
	var last *corev1.Pod
	err := poll(timeout, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		p, err := c.api.pod(ctx, testNS, name)
		if errors.Is(err, errNotFound) {
			return true, nil
		}
		if p != nil {
			last = p
		}
		return false, err
	})
	if err != nil {
		c.failPod(t, name, last, fmt.Sprintf("pod %s still exists: %v", name, err))
	}
	return time.Since(began)
}

func (c *cluster) node(name string) *agentHost {
	for _, a := range c.nodes {
		if a.name == name {
			return a
		}
	}
	return nil
}

// deletePodLater deletes the pod when t ends, without waiting; the
// cluster's teardown waits for every pod to be gone.
func (c *cluster) deletePodLater(t *testing.T, name string) {
	t.Cleanup(func() {
		if out, err := c.kubectl("", "-n", testNS, "delete", "pod", name, "--wait=false", "--ignore-not-found"); err != nil {
			t.Errorf("delete pod %s: %v\n%s", name, err, out)
		}
	})
}
