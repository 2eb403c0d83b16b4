package hosts

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Prefix starts every namespace name this package makes, so leftovers are
// easy to recognise ("ip netns list | grep tugt-").
const Prefix = "tugt-"

// insideEnv carries the name of the test a child process is to run inside a
// host.
const insideEnv = "TUG_TEST_INSIDE_HOST"

// RequireRoot skips t unless it runs as root with ip and nsenter at hand.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces)")
	}
	for _, tool := range []string{"ip", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s: %v", tool, err)
		}
	}
}

// Bridge is a test switch: a bridge inside its own network namespace.
type Bridge struct {
	Name   string // bridge device name, inside NS
	NS     string // namespace name under /run/netns
	Prefix netip.Prefix
}

// NewBridge makes a switch namespace holding bridge name (at most 15
// characters), for hosts addressed from cidr (e.g. 10.250.1.0/24).
func NewBridge(t testing.TB, name, cidr string) *Bridge {
	t.Helper()
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		t.Fatalf("bridge %s: %v", name, err)
	}
	b := &Bridge{Name: name, NS: Prefix + "sw-" + suffix(t), Prefix: p.Masked()}
	addNetNS(t, b.NS)
	run(t, "ip", "-n", b.NS, "link", "set", "lo", "up")
	run(t, "ip", "-n", b.NS, "link", "add", name, "type", "bridge")
	run(t, "ip", "-n", b.NS, "link", "set", name, "up")
	return b
}

// Host is a network namespace plugged into a Bridge.
type Host struct {
	Name string       // namespace name under /run/netns
	Addr netip.Prefix // eth0's address
}

// New makes host name (a short label) on b with eth0 at addr (e.g.
// 10.250.1.2/24): loopback up, one connected route, no default route.
func New(t testing.TB, b *Bridge, name, addr string) *Host {
	t.Helper()
	a, err := netip.ParsePrefix(addr)
	if err != nil || !b.Prefix.Contains(a.Addr()) {
		t.Fatalf("host %s: address %q not in %v (%v)", name, addr, b.Prefix, err)
	}
	h := &Host{Name: Prefix + name + "-" + suffix(t), Addr: a}
	addNetNS(t, h.Name)
	port := "v" + suffix(t) // switch side, named inside the switch namespace
	run(t, "ip", "-n", b.NS, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", h.Name)
	run(t, "ip", "-n", b.NS, "link", "set", port, "master", b.Name, "up")
	run(t, "ip", "-n", h.Name, "link", "set", "lo", "up")
	run(t, "ip", "-n", h.Name, "addr", "add", a.String(), "dev", "eth0")
	run(t, "ip", "-n", h.Name, "link", "set", "eth0", "up")
	return h
}

// Path is the namespace file, for setns or nsenter.
func (h *Host) Path() string { return "/run/netns/" + h.Name }

// Command returns a command that runs name with args inside the host's
// network namespace (nsenter --net, which unlike ip netns exec leaves /sys
// and the cgroup mounts alone).
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "nsenter", append([]string{"--net=" + h.Path(), "--", name}, args...)...)
}

// Inside reports whether this process is the child Host.RunTest started for
// t, i.e. whether t now runs inside the host.
func Inside(t testing.TB) bool {
	return os.Getenv(insideEnv) == t.Name()
}

// RunTest runs test t again, alone, in a child test process inside h, and
// fails t if the child fails. env adds variables for the child. The child's
// output is logged.
func (h *Host) RunTest(t *testing.T, env ...string) {
	t.Helper()
	parts := strings.Split(t.Name(), "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := h.Command(ctx, os.Args[0], "-test.run="+strings.Join(parts, "/"), "-test.count=1", "-test.v")
	cmd.Env = append(append(os.Environ(), insideEnv+"="+t.Name()), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("inside %s:\n%s", h.Name, out.String())
	if err != nil {
		t.Fatalf("test inside %s: %v", h.Name, err)
	}
	if !strings.Contains(out.String(), "--- PASS: "+parts0(t.Name())) {
		t.Fatalf("test inside %s did not pass (no PASS line)", h.Name)
	}
}

func parts0(name string) string {
	if i := strings.IndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return name
}

func addNetNS(t testing.TB, name string) {
	t.Helper()
	run(t, "ip", "netns", "add", name)
	t.Cleanup(func() {
		// Deleting the namespace destroys its devices, and a veth dies
		// with either end.
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

func suffix(t testing.TB) string {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random: %v", err)
	}
	return hex.EncodeToString(b[:])
}

// String names the host in messages.
func (h *Host) String() string { return fmt.Sprintf("%s(%v)", h.Name, h.Addr) }
