//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tugcluster/tug/test/images"
)

func testPreStop(t *testing.T, c *cluster) {
	name := "graceful"
	out := filepath.Join(c.dir, "prestop")
	if err := os.MkdirAll(out, 0o777); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(out, "log")
	c.runPod(t, podSpec{name: name, node: "node-1", image: images.Busybox, grace: 30,
		command: []string{"sh", "-c", `trap 'echo term >> /out/log; exit 0' TERM; echo started >> /out/log; while true; do sleep 1; done`},
		extra: `    lifecycle:
      preStop:
        exec: {command: [sh, -c, "echo prestop >> /out/log"]}
    volumeMounts:
    - {name: out, mountPath: /out}
`,
		volumes: fmt.Sprintf(`  volumes:
  - name: out
    hostPath: {path: %s, type: Directory}
`, out)})
	err := poll(20*time.Second, 100*time.Millisecond, func(context.Context) (bool, error) {
		b, err := os.ReadFile(logPath)
		return err == nil && string(b) == "started\n", err
	})
	if err != nil {
		t.Fatalf("container did not start its trap: %v", err)
	}
	if out, err := c.kubectl("", "-n", testNS, "delete", "pod", name, "--wait=false"); err != nil {
		t.Fatalf("delete: %v\n%s", err, out)
	}
	took := c.waitPodGone(t, name, 60*time.Second)
	b, _ := os.ReadFile(logPath)
	if diff := cmp.Diff("started\nprestop\nterm\n", string(b)); diff != "" {
		t.Errorf("what the pod recorded (-want +got):\n%s", diff)
	}
	// The container exits on SIGTERM at once; a stop that takes most of
	// the 30s grace period means the signal never arrived.
	if took > 15*time.Second {
		t.Errorf("pod took %v to stop; SIGTERM was not delivered or not acted on", took)
	}
	t.Logf("graceful stop took %v", took.Round(time.Millisecond))
}

func testStreaming(t *testing.T, c *cluster) {
	ticker := "ticker"
	c.runPod(t, podSpec{name: ticker, node: "node-2", image: images.Busybox, grace: 1,
		command: []string{"sh", "-c", `i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.2; done`}})

	if got := c.execIn(t, ticker, "cat", "/etc/hostname"); got != ticker+"\n" {
		t.Errorf("exec cat /etc/hostname = %q, want %q", got, ticker+"\n")
	}
	out, err := c.kubectl("", "-n", testNS, "exec", ticker, "--", "sh", "-c", "echo out; echo err >&2; exit 7")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || !strings.Contains(out, "out") || !strings.Contains(out, "err") ||
		!strings.Contains(out, "exit code 7") {
		t.Errorf("exec of a failing command = %q, %v; want its output and exit code 7", out, err)
	}

	// Wait for a few lines, so the follow below must deliver new ones.
	var logs string
	perr := poll(20*time.Second, 200*time.Millisecond, func(context.Context) (bool, error) {
		var err error
		logs, err = c.kubectl("", "-n", testNS, "logs", ticker)
		return err == nil && strings.Count(logs, "\n") >= 3, err
	})
	if perr != nil || !strings.HasPrefix(logs, "tick 0\ntick 1\n") {
		t.Fatalf("logs = %q, %v; want ticks from 0", logs, perr)
	}
	c.checkLogsFollow(t, ticker, strings.Count(logs, "\n"))

	web := "pf-web"
	c.runPod(t, podSpec{name: web, node: "node-1", image: images.Web})
	c.checkPortForward(t, web)
}

// checkLogsFollow runs `logs -f` briefly and expects ticks beyond the
// `have` lines that existed before it started.
func (c *cluster) checkLogsFollow(t *testing.T, pod string, have int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := c.kubectlCommand(ctx, "-n", testNS, "logs", "-f", pod)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	sc := bufio.NewScanner(stdout)
	want := have + 5
	next := 0
	for sc.Scan() {
		n, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "tick "))
		if err != nil || n != next {
			t.Fatalf("logs -f line %q, want tick %d", sc.Text(), next)
		}
		if next++; next >= want {
			return
		}
	}
	t.Errorf("logs -f ended after %d lines (%v), want %d", next, ctx.Err(), want)
}

// checkPortForward forwards a port of the server host's loopback to the
// pod's 8080 and fetches through it twice (one stream per connection).
func (c *cluster) checkPortForward(t *testing.T, pod string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := c.kubectlCommand(ctx, "-n", testNS, "port-forward", "pod/"+pod, "18080:8080")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "Forwarding from 127.0.0.1:18080") {
				select {
				case ready <- sc.Text():
				default:
				}
			}
		}
		close(ready)
	}()
	select {
	case line, ok := <-ready:
		if !ok {
			t.Fatalf("port-forward ended before forwarding: %v", cmd.Wait())
		}
		t.Logf("port-forward: %s", line)
	case <-ctx.Done():
		t.Fatal("port-forward did not start forwarding")
	}
	for _, path := range []string{"/one", "/two"} {
		body, err := getIn(ctx, c.server.host.Path(), "http://127.0.0.1:18080"+path)
		if want := pod + " " + path + "\n"; err != nil || body != want {
			t.Errorf("GET %s through port-forward = %q, %v; want %q", path, body, err, want)
		}
	}
}

func testAgentRestart(t *testing.T, c *cluster) {
	a := c.nodes[0]
	name := "steady"
	c.runPod(t, podSpec{name: name, node: a.name, image: images.Web, extra: `    readinessProbe:
      httpGet: {path: /healthz, port: 8080}
      periodSeconds: 1
`})
	p := c.waitPod(t, name, "Ready", 30*time.Second, podReady)
	before := containerStatus(p, "main")

	began := time.Now()
	c.restartAgent(a)
	// The agent is back once it runs a new pod; by then it has seen the
	// old one too.
	c.runPod(t, podSpec{name: "after-restart", node: a.name, image: images.Busybox, grace: 1, command: []string{"sleep", "3600"}})
	t.Logf("agent back and running a new pod %v after the restart began", time.Since(began).Round(time.Millisecond))
	c.waitNodeReady(a, 30*time.Second)

	// Watch the old pod for a few probe periods: same container, no
	// restart. (Readiness may drop until the new agent's first probe, as
	// with the kubelet; it must come back.)
	end := time.Now().Add(5 * time.Second)
	for time.Now().Before(end) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		p, err := c.api.pod(ctx, testNS, name)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		s := containerStatus(p, "main")
		if s == nil || s.ContainerID != before.ContainerID || s.RestartCount != before.RestartCount ||
			s.State.Running == nil || !s.State.Running.StartedAt.Equal(&before.State.Running.StartedAt) {
			c.failPod(t, name, p, fmt.Sprintf("container changed by the agent restart: before %+v", before))
		}
		time.Sleep(500 * time.Millisecond)
	}
	c.waitPod(t, name, "Ready again after the agent restart", 20*time.Second, podReady)
	if body, err := getInEventually(a.host.Path(), "http://"+p.Status.PodIP+":8080/still", 10*time.Second); err != nil || body != name+" /still\n" {
		t.Errorf("pod after the agent restart answered %q, %v", body, err)
	}
}

func testDeleteLeavesNothing(t *testing.T, c *cluster) {
	a := c.nodes[1]
	// Earlier pods on this node go first, so what appears now is this
	// pod's.
	err := poll(90*time.Second, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		pods, err := c.api.podsOnNode(ctx, a.name)
		if err != nil || len(pods) > 0 {
			return false, err
		}
		ids, err := c.containers(a)
		return err == nil && len(ids) == 0, fmt.Errorf("containers %v: %v", ids, err)
	})
	if err != nil {
		t.Fatalf("node %s did not become empty: %v", a.name, err)
	}
	before := c.nodeArtifacts(t, a, "")

	name := "doomed"
	p := c.runPod(t, podSpec{name: name, node: a.name, image: images.Web})
	during := c.nodeArtifacts(t, a, p.Status.PodIP)
	added := during.minus(before)
	if len(added.containers) == 0 {
		t.Errorf("no containerd container seen for the running pod")
	}
	if len(added.netns) == 0 {
		t.Errorf("no network namespace mount seen for the running pod")
	}
	if len(during.leases) == 0 {
		t.Errorf("no host-local lease file named %s under %s", p.Status.PodIP, a.dataDir)
	}
	var cgroups []string
	for _, f := range added.netns {
		cgroups = append(cgroups, podCgroups(filepath.Base(f))...)
	}
	t.Logf("while running: %d containers, %d mounts, netns %v, leases %v, %d cgroups",
		len(added.containers), len(added.mounts), added.netns, during.leases, len(cgroups))

	if out, err := c.kubectl("", "-n", testNS, "delete", "pod", name, "--wait=false"); err != nil {
		t.Fatalf("delete: %v\n%s", err, out)
	}
	c.waitPodGone(t, name, 60*time.Second)
	var left artifacts
	err = poll(30*time.Second, 250*time.Millisecond, func(context.Context) (bool, error) {
		after := c.nodeArtifacts(t, a, p.Status.PodIP)
		left = after.minus(before)
		left.leases = after.leases
		// The namespace file is named after the sandbox, and so is the
		// pod's cgroup (pod-<sandbox> under the agent's cgroup parent).
		for _, f := range added.netns {
			left.cgroups = append(left.cgroups, podCgroups(filepath.Base(f))...)
		}
		return left.empty(), nil
	})
	if err != nil {
		t.Errorf("left behind after the pod was deleted: %+v", left)
	}
	for _, f := range added.netns {
		if _, err := os.Stat(f); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("network namespace file %s still exists (%v)", f, err)
		}
	}
}

// podCgroups lists the cgroup directories of sandbox id, on cgroup v1
// (one per hierarchy) or v2.
func podCgroups(id string) []string {
	var out []string
	for _, pattern := range []string{"/sys/fs/cgroup/*/pod-" + id, "/sys/fs/cgroup/*/*/pod-" + id, "/sys/fs/cgroup/*/*/*/pod-" + id} {
		m, _ := filepath.Glob(pattern)
		out = append(out, m...)
	}
	return out
}

// artifacts are what a pod leaves on its node while it runs.
type artifacts struct {
	containers []string // containerd container ids
	mounts     []string // mount points under the node's data dir
	netns      []string // nsfs mounts outside /run/netns (pod namespaces)
	leases     []string // files named after the pod's IP under the data dir
	cgroups    []string // the pod's cgroup directories
}

// nodeArtifacts looks at a's containerd, the mount table and the data
// dir; ip names the lease files looked for ("" for none).
func (c *cluster) nodeArtifacts(t *testing.T, a *agentHost, ip string) artifacts {
	t.Helper()
	var out artifacts
	var err error
	if out.containers, err = c.containers(a); err != nil {
		t.Fatal(err)
	}
	all, err := mounts()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		if strings.HasPrefix(m.path, a.dataDir+"/") {
			out.mounts = append(out.mounts, m.path)
		}
		// Namespaces under /run/netns are test hosts (this test's and
		// others'); a pod's are anywhere else.
		if m.fstype == "nsfs" && !strings.HasPrefix(m.path, "/run/netns/") {
			out.netns = append(out.netns, m.path)
		}
	}
	if ip != "" {
		_ = filepath.WalkDir(a.dataDir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && d.Name() == ip {
				out.leases = append(out.leases, p)
			}
			return nil
		})
	}
	return out
}

// minus is what x has that before had not (leases are not compared).
func (x artifacts) minus(before artifacts) artifacts {
	diff := func(a, b []string) []string {
		seen := map[string]bool{}
		for _, s := range b {
			seen[s] = true
		}
		var out []string
		for _, s := range a {
			if !seen[s] {
				out = append(out, s)
			}
		}
		return out
	}
	return artifacts{
		containers: diff(x.containers, before.containers),
		mounts:     diff(x.mounts, before.mounts),
		netns:      diff(x.netns, before.netns),
	}
}

func (x artifacts) empty() bool {
	return len(x.containers)+len(x.mounts)+len(x.netns)+len(x.leases)+len(x.cgroups) == 0
}
