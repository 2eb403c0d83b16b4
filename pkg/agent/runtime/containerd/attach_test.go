package containerd

import (
	"context"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/internal/syncbuf"
	"github.com/tugcluster/tug/pkg/agent/runtime"
	testimages "github.com/tugcluster/tug/test/images"
)

// readLoop answers every line of its stdin.
var readLoop = []string{"sh", "-c", `while read l; do echo "got $l"; done; echo "stdin closed"`}

// attachSession is one running Attach call with a pipe as its stdin.
type attachSession struct {
	stdin       *io.PipeWriter
	out, errOut *syncbuf.Buffer
	done        chan error
	cancel      context.CancelFunc
}

// startAttach attaches to the container; a non-nil resize asks for a TTY.
func startAttach(rt *Runtime, id string, withStdin bool, resize <-chan runtime.TerminalSize) *attachSession {
	ctx, cancel := context.WithCancel(context.Background())
	s := &attachSession{out: &syncbuf.Buffer{}, errOut: &syncbuf.Buffer{}, done: make(chan error, 1), cancel: cancel}
	o := runtime.AttachOptions{Stdout: s.out, Stderr: s.errOut, TTY: resize != nil, Resize: resize}
	if withStdin {
		pr, pw := io.Pipe()
		s.stdin, o.Stdin = pw, pr
	}
	go func() { s.done <- rt.Attach(ctx, id, o) }()
	return s
}

// send writes a line to the session's stdin.
func (s *attachSession) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(s.stdin, line+"\n"); err != nil {
		t.Fatalf("write %q to attach stdin: %v", line, err)
	}
}

// end waits for Attach to return.
func (s *attachSession) end(t *testing.T, what string) error {
	t.Helper()
	defer s.cancel()
	select {
	case err := <-s.done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("attach did not return after %s", what)
		return nil
	}
}

// TestAttach: input reaches the main process through attach sessions and
// its answers come back while also landing in the log; the stdin stays
// open between sessions and across a restart of the runtime; stdinOnce
// closes it after the first session; a TTY container streams one output.
func TestAttach(t *testing.T) {
	first := newTestRuntime(t)
	ctx := context.Background()
	pod := testPod("attach",
		corev1.Container{Name: "echo", Image: testimages.Busybox, Command: readLoop, Stdin: true},
		corev1.Container{Name: "once", Image: testimages.Busybox, Command: readLoop, Stdin: true, StdinOnce: true},
		corev1.Container{Name: "term", Image: testimages.Busybox, Stdin: true, TTY: true,
			Command: []string{"sh", "-c", `read l; echo "term $l"; tty; sleep 3600`}},
		corev1.Container{Name: "quiet", Image: testimages.Busybox, Command: []string{"sh", "-c", `echo out; echo err >&2; sleep 3600`}})
	sb, err := first.RunPodSandbox(ctx, pod)
	if err != nil {
		t.Fatal(err)
	}
	echo := runContainer(t, first, sb, pod, 0, 0)

	s := startAttach(first, echo, true, nil)
	s.send(t, "one")
	waitOutput(t, s.out, "got one\n", 10*time.Second)
	_ = s.stdin.Close()
	if err := s.end(t, "its stdin ended"); err != nil {
		t.Errorf("attach = %v, want nil once stdin ends", err)
	}
	s = startAttach(first, echo, true, nil)
	s.send(t, "two")
	waitOutput(t, s.out, "got two\n", 10*time.Second)
	if strings.Contains(s.out.String(), "one") {
		t.Errorf("second session saw earlier output: %q", s.out.String())
	}
	_ = s.stdin.Close()
	_ = s.end(t, "its stdin ended")

	// A new runtime on the same data directory adopts the container; its
	// stdin is still open.
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	rt, err := Start(ctx, first.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanupRuntime(t, rt) })
	s = startAttach(rt, echo, true, nil)
	s.send(t, "three")
	waitOutput(t, s.out, "got three\n", 10*time.Second)
	_ = s.stdin.Close()
	_ = s.end(t, "its stdin ended")
	if st, err := rt.ContainerStatus(ctx, echo); err != nil || st.State != runtime.ContainerRunning {
		t.Errorf("after attach sessions ended: %+v %v, want running", st, err)
	}
	waitLog(t, rt.logPath(pod, "echo", 0), "stdout F got one", "stdout F got two", "stdout F got three")

	t.Run("StdinOnce", func(t *testing.T) {
		once := runContainer(t, rt, sb, pod, 1, 0)
		watcher := startAttach(rt, once, false, nil)
		s := startAttach(rt, once, true, nil)
		s.send(t, "only")
		waitOutput(t, s.out, "got only\n", 10*time.Second)
		_ = s.stdin.Close()
		if err := s.end(t, "the container exited"); err != nil {
			t.Errorf("attach = %v, want nil when the container exits", err)
		}
		if err := watcher.end(t, "the container exited"); err != nil {
			t.Errorf("output-only attach = %v, want nil when the container exits", err)
		}
		if out := s.out.String(); !strings.Contains(out, "got only\nstdin closed\n") {
			t.Errorf("session output %q, want the answer and the end of stdin", out)
		}
		// The output-only session may subscribe after the answer (Attach
		// runs in its own goroutine); it sees the output until the exit.
		if out := watcher.out.String(); !strings.HasSuffix(out, "stdin closed\n") {
			t.Errorf("output-only session %q, want the end of stdin", out)
		}
		if st := waitExited(t, rt, once, 10*time.Second); st.ExitCode != 0 {
			t.Errorf("exit = %d, want 0 after stdin closed", st.ExitCode)
		}
	})

	t.Run("TTY", func(t *testing.T) {
		term := runContainer(t, rt, sb, pod, 2, 0)
		resize := make(chan runtime.TerminalSize, 1)
		resize <- runtime.TerminalSize{Width: 100, Height: 30}
		s := startAttach(rt, term, true, resize)
		s.send(t, "hi")
		waitOutput(t, s.out, "term hi", 10*time.Second)
		waitOutput(t, s.out, "/dev/pts/", 10*time.Second)
		pts := regexp.MustCompile(`/dev/pts/\d+`).FindString(s.out.String())
		var size string
		for deadline := time.Now().Add(5 * time.Second); size != "30 100" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			res, err := rt.ExecSync(ctx, term, []string{"stty", "-F", pts, "size"}, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			size = strings.TrimSpace(string(res.Stdout))
		}
		if size != "30 100" {
			t.Errorf("terminal size after resize = %q, want 30 100", size)
		}
		if s.errOut.String() != "" {
			t.Errorf("TTY session wrote %q to stderr, want one stream", s.errOut.String())
		}
		_ = s.stdin.Close()
		_ = s.end(t, "its stdin ended")
	})

	t.Run("OutputOnlyAndStderr", func(t *testing.T) {
		quiet := runContainer(t, rt, sb, pod, 3, 0)
		waitLog(t, rt.logPath(pod, "quiet", 0), "stdout F out", "stderr F err")
		s := startAttach(rt, quiet, true, nil)
		defer s.stdin.Close()
		// The container has no stdin: the session's input is not read,
		// and its end does not end the session.
		go func() { _, _ = io.WriteString(s.stdin, "ignored\n"); _ = s.stdin.Close() }()
		res, err := rt.ExecSync(ctx, quiet, []string{"sh", "-c", "echo late >/proc/1/fd/1; echo bad >/proc/1/fd/2"}, 5*time.Second)
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("exec = %+v %v", res, err)
		}
		waitOutput(t, s.out, "late\n", 10*time.Second)
		waitOutput(t, s.errOut, "bad\n", 10*time.Second)
		if err := rt.StopContainer(ctx, quiet, 0); err != nil {
			t.Fatal(err)
		}
		if err := s.end(t, "the container was stopped"); err != nil {
			t.Errorf("attach = %v, want nil when the container exits", err)
		}
	})
}

// waitLog waits until the log file holds every record text.
func waitLog(t *testing.T, path string, want ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		missing := ""
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("log %s lacks %q:\n%s", path, missing, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
