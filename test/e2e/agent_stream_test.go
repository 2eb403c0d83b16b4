//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tugcluster/tug/internal/syncbuf"
	"github.com/tugcluster/tug/test/images"
)

// sleeper is a pod command that idles until it is stopped.
var sleeper = []string{"sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"}

// testAttach: `kubectl attach -i` hands a line to a pod reading its stdin
// and shows the reply; the stdin stays open for the next session.
func testAttach(t *testing.T, c *cluster) {
	pod := "attach-echo"
	c.runPod(t, podSpec{name: pod, node: "node-1", image: images.Busybox, grace: 1, extra: "    stdin: true\n",
		command: []string{"sh", "-c", `while read l; do echo "got $l"; done`}})
	for _, word := range []string{"first", "second"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := c.kubectlCommand(ctx, "-n", testNS, "attach", "-i", pod)
		stdin, err := cmd.StdinPipe()
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		var out syncbuf.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatal(err)
		}
		_, werr := io.WriteString(stdin, word+"\n")
		got := out.WaitFor(ctx, "got "+word+"\n")
		_ = stdin.Close() // the end of the input ends the session
		err = cmd.Wait()
		cancel()
		if werr != nil || !got {
			t.Fatalf("attach: wrote %q (%v), output %q, want the reply", word, werr, out.String())
		}
		if err != nil {
			t.Errorf("attach after its stdin ended: %v\n%s", err, out.String())
		}
	}
	if logs := c.mustLogs(t, pod); logs != "got first\ngot second\n" {
		t.Errorf("logs = %q, want both replies", logs)
	}
}

// testCopy: `kubectl cp` copies a file into a pod and back out unchanged.
func testCopy(t *testing.T, c *cluster) {
	pod := "cp-box"
	c.runPod(t, podSpec{name: pod, node: "node-2", image: images.Busybox, grace: 1, command: sleeper})
	dir := t.TempDir()
	src, back := filepath.Join(dir, "src.txt"), filepath.Join(dir, "back.txt")
	var content bytes.Buffer
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&content, "line %d \x00\xff é\n", i)
	}
	if err := os.WriteFile(src, content.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	remote := testNS + "/" + pod + ":/tmp/copied.txt"
	if out, err := c.kubectl("", "cp", src, remote); err != nil {
		t.Fatalf("kubectl cp into the pod: %v\n%s", err, out)
	}
	if got := c.execIn(t, pod, "wc", "-c", "/tmp/copied.txt"); !strings.HasPrefix(got, fmt.Sprint(content.Len())+" ") {
		t.Errorf("size inside the pod: %q, want %d bytes", got, content.Len())
	}
	if out, err := c.kubectl("", "cp", remote, back); err != nil {
		t.Fatalf("kubectl cp out of the pod: %v\n%s", err, out)
	}
	got, err := os.ReadFile(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, content.Bytes()) {
		t.Errorf("copied back %d bytes, want the %d bytes sent", len(got), content.Len())
	}
}

// testExecTTY: `kubectl exec -it POD -- sh` on a real terminal runs an
// interactive shell on a terminal inside the container and ends with the
// shell's exit status.
func testExecTTY(t *testing.T, c *cluster) {
	pod := "exec-tty"
	c.runPod(t, podSpec{name: pod, node: "node-1", image: images.Busybox, grace: 1, command: sleeper})
	ptm, pts, err := openPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer ptm.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := c.kubectlCommand(ctx, "-n", testNS, "exec", "-it", pod, "--", "sh")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	err = cmd.Start()
	pts.Close() // the child has its copy
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	var out syncbuf.Buffer
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = io.Copy(&out, ptm) // ends with EIO once kubectl has exited
	}()
	defer func() {
		// On failure too: no kubectl and no reader outlive the test.
		cancel()
		<-waited
		_ = ptm.Close()
		<-copied
	}()
	// Type only once the remote shell prompts, so the local terminal is
	// in raw mode and everything read back comes from the container.
	if !out.WaitFor(ctx, "# ") {
		t.Fatalf("no shell prompt: %q", out.String())
	}
	if _, err := io.WriteString(ptm, "echo $((6*7)); tty; exit 3\r"); err != nil {
		t.Fatal(err)
	}
	select {
	case err = <-waited:
		waited <- err // for the deferred cleanup
	case <-ctx.Done():
		t.Fatalf("kubectl exec -it did not end: %q", out.String())
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Errorf("kubectl exec -it = %v, want exit status 3\n%q", err, out.String())
	}
	select {
	case <-copied:
	case <-time.After(5 * time.Second):
		_ = ptm.Close()
		<-copied
	}
	text := out.String()
	if !regexp.MustCompile(`(?m)^42\r?$`).MatchString(text) {
		t.Errorf("terminal output %q lacks 42", text)
	}
	if !regexp.MustCompile(`(?m)^42\r?\n/dev/pts/\d+\r?$`).MatchString(text) {
		t.Errorf("terminal output %q lacks the container's terminal after 42", text)
	}
}

// openPTY opens a pseudo-terminal pair: the controlling side and the
// terminal a child gets as its standard streams.
func openPTY() (ptm, pts *os.File, err error) {
	ptm, err = os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open /dev/ptmx: %w", err)
	}
	// Control keeps ptm in non-blocking mode, so closing it ends a read.
	raw, err := ptm.SyscallConn()
	if err != nil {
		ptm.Close()
		return nil, nil, err
	}
	var n int
	var ioErr error
	err = raw.Control(func(fd uintptr) {
		if ioErr = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); ioErr != nil {
			return
		}
		n, ioErr = unix.IoctlGetInt(int(fd), unix.TIOCGPTN)
	})
	if err = errors.Join(err, ioErr); err != nil {
		ptm.Close()
		return nil, nil, fmt.Errorf("unlock pseudo-terminal: %w", err)
	}
	pts, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		ptm.Close()
		return nil, nil, fmt.Errorf("open terminal: %w", err)
	}
	return ptm, pts, nil
}
