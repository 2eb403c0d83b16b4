package server_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
)

type executorFactory func(e *env, u *url.URL) (remotecommand.Executor, error)

var executors = map[string]executorFactory{
	"spdy": func(e *env, u *url.URL) (remotecommand.Executor, error) {
		return remotecommand.NewSPDYExecutor(e.config, "POST", u)
	},
	"websocket": func(e *env, u *url.URL) (remotecommand.Executor, error) {
		return remotecommand.NewWebSocketExecutor(e.config, "GET", u.String())
	},
}

func execURL(e *env, path string, cmd []string, stdin, tty bool) *url.URL {
	q := url.Values{"command": cmd, "output": {"1"}}
	if !tty {
		q.Set("error", "1")
	}
	if stdin {
		q.Set("input", "1")
	}
	if tty {
		q.Set("tty", "1")
	}
	u, _ := url.Parse(e.base + path + "?" + q.Encode())
	return u
}

func TestExec(t *testing.T) {
	for proto, newExec := range executors {
		t.Run(proto, func(t *testing.T) {
			e := start(t)
			e.runPod(t, "ns1", "shell", "app")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			run := func(cmd []string, stdin string, tty bool, sizes ...remotecommand.TerminalSize) (string, string, error) {
				ex, err := newExec(e, execURL(e, "/exec/ns1/shell/app", cmd, stdin != "", tty))
				if err != nil {
					t.Fatal(err)
				}
				var out, errOut bytes.Buffer
				opts := remotecommand.StreamOptions{Stdout: &out, Tty: tty}
				if !tty {
					opts.Stderr = &errOut
				}
				if stdin != "" {
					opts.Stdin = strings.NewReader(stdin)
				}
				if len(sizes) > 0 {
					opts.TerminalSizeQueue = &sizeQueue{sizes: sizes}
				}
				err = ex.StreamWithContext(ctx, opts)
				return out.String(), errOut.String(), err
			}
			if out, _, err := run([]string{"echo", "hello", "world"}, "", false); err != nil || out != "hello world\n" {
				t.Errorf("echo: %q, %v", out, err)
			}
			if out, _, err := run([]string{"cat"}, "from stdin\n", false); err != nil || out != "from stdin\n" {
				t.Errorf("cat: %q, %v", out, err)
			}
			_, errOut, err := run([]string{"fail", "3"}, "", false)
			var exit utilexec.ExitError
			if !errors.As(err, &exit) || exit.ExitStatus() != 3 || errOut != "failing\n" {
				t.Errorf("fail 3: stderr %q, err %v; want exit code 3", errOut, err)
			}
			if out, _, err := run([]string{"size"}, "", true, remotecommand.TerminalSize{Width: 120, Height: 40}); err != nil || out != "120x40\n" {
				t.Errorf("size with a tty: %q, %v", out, err)
			}
			ex, err := newExec(e, execURL(e, "/exec/ns1/shell/nope", []string{"echo"}, false, false))
			if err != nil {
				t.Fatal(err)
			}
			if err := ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}); err == nil {
				t.Error("exec in a missing container succeeded")
			}
		})
	}
}

func TestAttach(t *testing.T) {
	for proto, newExec := range executors {
		t.Run(proto, func(t *testing.T) {
			e := start(t)
			e.runPod(t, "ns1", "attached", "app")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ex, err := newExec(e, execURL(e, "/attach/ns1/attached/app", nil, true, false))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{
				Stdin: strings.NewReader("line 1\nline 2\n"), Stdout: &out, Stderr: &bytes.Buffer{},
			})
			if err != nil || out.String() != "line 1\nline 2\n" {
				t.Errorf("attach: %q, %v", out.String(), err)
			}
		})
	}
}

// sizeQueue hands out terminal sizes, then ends resizing.
type sizeQueue struct{ sizes []remotecommand.TerminalSize }

func (q *sizeQueue) Next() *remotecommand.TerminalSize {
	if len(q.sizes) == 0 {
		return nil
	}
	s := q.sizes[0]
	q.sizes = q.sizes[1:]
	return &s
}
