package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	"k8s.io/streaming/pkg/httpstream/wsstream"
	utilexec "k8s.io/utils/exec"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// session runs one exec or attach once the client's streams exist. A
// command that exits non-zero returns a utilexec.CodeExitError.
type session func(ctx context.Context, s streams) error

// streams are a session's standard streams; unrequested ones are nil.
type streams struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	tty            bool
	resize         <-chan runtime.TerminalSize
}

// serveExec runs ?command=…&command=… in a running container.
func (s *Server) serveExec(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		writeError(w, apierrors.NewMethodNotSupported(podsResource, r.Method))
		return
	}
	cmd := r.URL.Query()["command"]
	if len(cmd) == 0 {
		writeError(w, apierrors.NewBadRequest("you must specify at least one command for the container"))
		return
	}
	execer, ok := s.cfg.Runtime.(runtime.StreamExecer)
	if !ok {
		writeError(w, errNotSupported("exec"))
		return
	}
	s.serveSession(w, r, func(ctx context.Context, st streams) error {
		c, _ := containerFrom(ctx)
		code, err := execer.Exec(ctx, c.ID, runtime.ExecOptions{
			Cmd: cmd, Stdin: st.stdin, Stdout: st.stdout, Stderr: st.stderr, TTY: st.tty, Resize: st.resize,
		})
		if err != nil {
			return err
		}
		if code != 0 {
			return utilexec.CodeExitError{Err: fmt.Errorf("command terminated with exit code %d", code), Code: int(code)}
		}
		return nil
	})
}

// serveAttach connects to a running container's main process.
func (s *Server) serveAttach(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		writeError(w, apierrors.NewMethodNotSupported(podsResource, r.Method))
		return
	}
	attacher, ok := s.cfg.Runtime.(runtime.Attacher)
	if !ok {
		writeError(w, errNotSupported("attach"))
		return
	}
	s.serveSession(w, r, func(ctx context.Context, st streams) error {
		c, _ := containerFrom(ctx)
		return attacher.Attach(ctx, c.ID, runtime.AttachOptions{
			Stdin: st.stdin, Stdout: st.stdout, Stderr: st.stderr, TTY: st.tty, Resize: st.resize,
		})
	})
}

type containerKey struct{}

func containerFrom(ctx context.Context) (runtime.ContainerStatus, bool) {
	c, ok := ctx.Value(containerKey{}).(runtime.ContainerStatus)
	return c, ok
}

// serveSession resolves the container before upgrading (so a missing one
// is an ordinary HTTP error), then hands the connection to the WebSocket
// or the SPDY protocol code.
func (s *Server) serveSession(w http.ResponseWriter, r *http.Request, run session) {
	ns, pod, name := r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container")
	opts, err := remotecommand.NewOptions(r)
	if err != nil {
		writeError(w, apierrors.NewBadRequest(err.Error()))
		return
	}
	c, err := s.runningContainer(r.Context(), ns, pod, name)
	if err != nil {
		writeError(w, err)
		return
	}
	r = r.WithContext(context.WithValue(r.Context(), containerKey{}, c))
	if wsstream.IsWebSocketRequest(r) {
		s.serveWebSocketSession(w, r, opts, run)
		return
	}
	adapter := sessionAdapter{run: run}
	remotecommand.ServeExec(w, r, adapter, pod, "", name, nil, opts,
		s.cfg.StreamIdleTimeout, s.cfg.StreamCreationTimeout, remotecommand.SupportedStreamingProtocols)
}

// sessionAdapter lets the SPDY protocol code run a session.
type sessionAdapter struct{ run session }

func (a sessionAdapter) ExecInContainer(ctx context.Context, _, _, _ string, _ []string, in io.Reader, out, errw io.WriteCloser,
	tty bool, resize <-chan remotecommand.TerminalSize, _ time.Duration) error {
	st := streams{stdin: in, tty: tty, resize: convertResize(ctx, resize)}
	// Typed nils must not reach the runtime as non-nil writers.
	if out != nil {
		st.stdout = out
	}
	if errw != nil {
		st.stderr = errw
	}
	err := a.run(ctx, st)
	var exit utilexec.CodeExitError
	if errors.As(err, &exit) {
		// The protocol code recognises exit codes by type assertion.
		return exit
	}
	return err
}

// convertResize forwards the protocol's resize events as runtime ones.
func convertResize(ctx context.Context, in <-chan remotecommand.TerminalSize) <-chan runtime.TerminalSize {
	if in == nil {
		return nil
	}
	out := make(chan runtime.TerminalSize, 1)
	go func() {
		defer close(out)
		for {
			select {
			case size, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- runtime.TerminalSize{Width: size.Width, Height: size.Height}:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}
