package containerd

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// daemonChildEnv makes the test binary start a containerd and wait to be
// killed (TestDaemonEndsWithItsParent runs it as its child).
const daemonChildEnv = "TUG_TEST_DAEMON_CHILD_DIR"

// A containerd the runtime started does not outlive a runtime process
// that dies without stopping it.
func TestDaemonEndsWithItsParent(t *testing.T) {
	if dir := os.Getenv(daemonChildEnv); dir != "" {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		d, err := startDaemon(ctx, "containerd", dir, filepath.Join(dir, "c.sock"), time.Minute)
		if err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		fmt.Println("PID", d.cmd.Process.Pid)
		time.Sleep(time.Minute) // until the parent test kills this process
		os.Exit(1)
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("containerd"); err != nil {
		t.Skip("containerd is not installed")
	}
	dir, err := os.MkdirTemp("", "tugdaemon-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unmountUnder(dir); _ = os.RemoveAll(dir) })
	child := exec.Command(os.Args[0], "-test.run=^TestDaemonEndsWithItsParent$", "-test.count=1")
	child.Env = append(os.Environ(), daemonChildEnv+"="+dir)
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	pid := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "PID "); ok {
			pid, _ = strconv.Atoi(v)
			break
		}
		if strings.HasPrefix(sc.Text(), "ERR") {
			t.Fatalf("child: %s", sc.Text())
		}
	}
	if pid == 0 {
		t.Fatal("child did not report containerd's pid")
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) }) // only if the test failed below
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	deadline := time.Now().Add(15 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("containerd (pid %d) still runs 15 s after its parent was killed", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// alive reports whether pid runs (a zombie does not count).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && f[0] != "Z"
}
