//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// teardown stops the cluster in order and fails the test for anything
// left behind: the test's pods are deleted gracefully (so the agents
// remove their networks and containers), the agents, the registry and the
// server get SIGTERM, and then no process, container or mount of the
// cluster may remain. Leftovers are reported, then removed by PID and by
// mount point.
func (c *cluster) teardown() {
	t := c.t
	began := time.Now()
	if t.Failed() {
		c.logTails()
	}
	if c.api != nil && c.server.proc != nil && c.server.proc.running() {
		c.deleteTestPods()
	}
	for _, a := range c.nodes {
		if a.proc != nil && a.proc.stop(30*time.Second) {
			t.Errorf("agent %s ignored SIGTERM for 30s:\n%s", a.name, a.proc.tail(30))
		}
	}
	for _, a := range c.nodes {
		c.removeContainers(a)
	}
	if c.registryProc != nil {
		c.registryProc.stop(10 * time.Second)
	}
	if c.server.proc != nil && c.server.proc.stop(30*time.Second) {
		t.Errorf("tug server ignored SIGTERM for 30s:\n%s", c.server.proc.tail(30))
	}
	c.killLeftovers()
	c.unmountLeftovers()
	t.Logf("teardown in %v", time.Since(began).Round(time.Millisecond))
}

// deleteTestPods deletes every pod of testNS gracefully and waits until
// they are gone and no node's containerd holds a container any more.
func (c *cluster) deleteTestPods() {
	t := c.t
	if out, err := c.kubectl("", "-n", testNS, "delete", "pods", "--all", "--wait=false"); err != nil {
		t.Errorf("delete test pods: %v\n%s", err, out)
		return
	}
	err := poll(90*time.Second, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		for _, a := range c.nodes {
			pods, err := c.api.podsOnNode(ctx, a.name)
			if err != nil || len(pods) > 0 {
				return false, err
			}
		}
		return true, nil
	})
	if err != nil {
		t.Errorf("pods still bound to the nodes at teardown: %v", err)
		out, _ := c.kubectl("", "get", "pods", "-A", "-o", "wide")
		t.Logf("pods:\n%s", out)
		return
	}
	for _, a := range c.nodes {
		if a.proc == nil || !a.proc.running() {
			continue
		}
		var left []string
		err := poll(30*time.Second, 250*time.Millisecond, func(context.Context) (bool, error) {
			ids, err := c.containers(a)
			left = ids
			return err == nil && len(ids) == 0, err
		})
		if err != nil {
			t.Errorf("node %s: containers left after every pod was deleted: %v %v", a.name, left, err)
			for _, id := range left {
				t.Logf("container %s: %s", id, c.containerLabels(a, id))
			}
		}
	}
}

// removeContainers reports and removes the containers left in a's
// containerd when it still answers after the agent stopped.
func (c *cluster) removeContainers(a *agentHost) {
	if _, err := c.ctr(a, "version"); err != nil {
		return // not running: its processes are found by killLeftovers
	}
	ids, err := c.containers(a)
	if err != nil {
		c.t.Errorf("node %s: %v", a.name, err)
		return
	}
	for _, id := range ids {
		c.t.Errorf("node %s: container %s left in containerd", a.name, id)
		_, _ = c.ctr(a, "tasks", "kill", "--signal", "SIGKILL", id)
		_, _ = c.ctr(a, "tasks", "delete", "--force", id)
		if out, err := c.ctr(a, "containers", "delete", id); err != nil {
			c.t.Errorf("node %s: remove container %s: %v: %s", a.name, id, err, out)
		}
	}
}

// containerLabels is the labels tug put on container id, for messages.
func (c *cluster) containerLabels(a *agentHost, id string) string {
	out, err := c.ctr(a, "containers", "info", id)
	if err != nil {
		return err.Error()
	}
	var labels []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, `"io.`) {
			labels = append(labels, strings.TrimSpace(line))
		}
	}
	return strings.Join(labels, " ")
}

// killLeftovers kills, by PID, every process that belongs to the cluster
// but outlived its stop: anything whose command line, root or working
// directory lies under the cluster's directory (containerd, shims and
// container processes of the agents).
func (c *cluster) killLeftovers() {
	t := c.t
	pids := c.leftoverProcesses()
	for pid, desc := range pids {
		t.Errorf("process left running: %d %s", pid, desc)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(10 * time.Second)
	for pid := range pids {
		for time.Now().Before(deadline) {
			if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err != nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func (c *cluster) leftoverProcesses() map[int]string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		c.t.Errorf("list processes: %v", err)
		return nil
	}
	self := os.Getpid()
	prefix := c.dir + "/"
	out := map[int]string{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		base := "/proc/" + e.Name()
		raw, err := os.ReadFile(base + "/cmdline")
		if err != nil {
			continue
		}
		cmdline := strings.TrimSpace(strings.ReplaceAll(string(raw), "\x00", " "))
		root, _ := os.Readlink(base + "/root")
		cwd, _ := os.Readlink(base + "/cwd")
		if strings.Contains(cmdline, prefix) || strings.HasPrefix(root, prefix) || strings.HasPrefix(cwd, prefix) {
			out[pid] = cmdline
		}
	}
	return out
}

// mount is one line of /proc/self/mountinfo.
type mount struct {
	path, fstype string
}

// mounts lists the mount points of this mount namespace (the one the
// agents run in: test hosts only change the network namespace).
func mounts() ([]mount, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var out []mount
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		m := mount{path: unescapeMountPath(f[4])}
		for i := 5; i+1 < len(f); i++ {
			if f[i] == "-" {
				m.fstype = f[i+1]
				break
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// mountsUnder lists the mount points under dir, deepest first.
func mountsUnder(dir string) ([]string, error) {
	all, err := mounts()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range all {
		if m.path == dir || strings.HasPrefix(m.path, dir+"/") {
			out = append(out, m.path)
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out, nil
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unmountLeftovers reports and detaches every mount left under the
// cluster's directory.
func (c *cluster) unmountLeftovers() {
	mps, err := mountsUnder(c.dir)
	if err != nil {
		c.t.Errorf("read mounts: %v", err)
		return
	}
	for _, mp := range mps {
		c.t.Errorf("mount left behind: %s", mp)
		if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil {
			c.t.Errorf("unmount %s: %v", mp, err)
		}
	}
}

// removeDir removes the cluster's directory unless something is still
// mounted in it (removing through a bind mount would delete the mounted
// files).
func (c *cluster) removeDir() {
	if keep := os.Getenv("TUG_E2E_LOG_DIR"); keep != "" && c.t.Failed() {
		c.keepLogs(keep)
	}
	mps, err := mountsUnder(c.dir)
	if err != nil || len(mps) > 0 {
		c.t.Errorf("keeping %s: mounts remain %v (%v)", c.dir, mps, err)
		return
	}
	if err := os.RemoveAll(c.dir); err != nil {
		c.t.Errorf("remove %s: %v", c.dir, err)
	}
}

// keepLogs copies the process logs into a new directory under dir.
func (c *cluster) keepLogs(dir string) {
	dst, err := os.MkdirTemp(dir, "tug-e2e-logs-")
	if err != nil {
		c.t.Errorf("keep logs: %v", err)
		return
	}
	logs, _ := filepath.Glob(filepath.Join(c.dir, "*.log"))
	for _, l := range logs {
		if b, err := os.ReadFile(l); err == nil {
			_ = os.WriteFile(filepath.Join(dst, filepath.Base(l)), b, 0o644)
		}
	}
	c.t.Logf("process logs kept in %s", dst)
}

// logTails logs the end of every process log of the cluster.
func (c *cluster) logTails() {
	logs, _ := filepath.Glob(filepath.Join(c.dir, "*.log"))
	for _, l := range logs {
		c.t.Logf("--- %s:\n%s", filepath.Base(l), tailFile(l, 30))
	}
}
