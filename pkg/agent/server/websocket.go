package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	"k8s.io/streaming/pkg/httpstream/wsstream"
	utilexec "k8s.io/utils/exec"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// WebSocket channel numbers of the remote command protocols.
const (
	wsStdin = iota
	wsStdout
	wsStderr
	wsError
	wsResize
)

// WebSocket subprotocols served for exec and attach. v5 adds the CLOSE
// signal that ends stdin; v4 and v5 report exit codes as a Status.
const (
	wsProtocolV5       = remotecommand.StreamProtocolV5Name
	wsProtocolV4       = "v4." + wsstream.ChannelWebSocketProtocol
	wsProtocolV4Base64 = "v4." + wsstream.Base64ChannelWebSocketProtocol
)

// serveWebSocketSession runs a session over the WebSocket channel
// protocols (v5, v4 and the unversioned ones).
func (s *Server) serveWebSocketSession(w http.ResponseWriter, r *http.Request, opts *remotecommand.Options, run session) {
	channels := make([]wsstream.ChannelType, 5)
	channels[wsStdin] = channelIf(opts.Stdin, wsstream.ReadChannel)
	channels[wsStdout] = channelIf(opts.Stdout, wsstream.WriteChannel)
	channels[wsStderr] = channelIf(opts.Stderr, wsstream.WriteChannel)
	channels[wsError] = wsstream.WriteChannel
	channels[wsResize] = wsstream.ReadChannel
	binary := wsstream.ChannelProtocolConfig{Binary: true, Channels: channels}
	base64 := wsstream.ChannelProtocolConfig{Binary: false, Channels: channels}
	conn := wsstream.NewConn(map[string]wsstream.ChannelProtocolConfig{
		"":                                      binary,
		wsstream.ChannelWebSocketProtocol:       binary,
		wsstream.Base64ChannelWebSocketProtocol: base64,
		wsProtocolV4:                            binary,
		wsProtocolV4Base64:                      base64,
		wsProtocolV5:                            binary,
	})
	conn.SetIdleTimeout(s.cfg.StreamIdleTimeout)
	protocol, chans, err := conn.Open(w, r)
	if err != nil {
		s.cfg.Logger.Debug("websocket upgrade failed", "path", r.URL.Path, "err", err)
		return
	}
	defer conn.Close()
	// An empty frame on the first writable channel tells clients the
	// session is set up.
	switch {
	case opts.Stdout:
		_, _ = chans[wsStdout].Write(nil)
	case opts.Stderr:
		_, _ = chans[wsStderr].Write(nil)
	default:
		_, _ = chans[wsError].Write(nil)
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	st := streams{tty: opts.TTY}
	if opts.Stdin {
		st.stdin = chans[wsStdin]
	}
	if opts.Stdout {
		st.stdout = chans[wsStdout]
	}
	if opts.Stderr {
		st.stderr = chans[wsStderr]
	}
	if opts.TTY {
		st.resize = decodeResizes(ctx, chans[wsResize])
	}
	err = run(ctx, st)
	status := sessionStatus(err)
	if protocol == wsProtocolV4 || protocol == wsProtocolV4Base64 || protocol == wsProtocolV5 {
		data, merr := json.Marshal(status)
		if merr == nil {
			_, _ = chans[wsError].Write(data)
		}
	} else if err != nil {
		_, _ = chans[wsError].Write([]byte(status.Message))
	}
}

func channelIf(requested bool, t wsstream.ChannelType) wsstream.ChannelType {
	if requested {
		return t
	}
	return wsstream.IgnoreChannel
}

// sessionStatus is what the error channel reports at the end: success,
// a non-zero exit code, or why the session failed.
func sessionStatus(err error) *metav1.Status {
	var exit utilexec.CodeExitError
	switch {
	case err == nil:
		return &metav1.Status{Status: metav1.StatusSuccess}
	case errors.As(err, &exit):
		return &metav1.Status{
			Status:  metav1.StatusFailure,
			Reason:  remotecommand.NonZeroExitCodeReason,
			Message: fmt.Sprintf("command terminated with non-zero exit code: %v", exit),
			Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{
				Type: remotecommand.ExitCodeCauseType, Message: fmt.Sprint(exit.Code),
			}}},
		}
	}
	return &metav1.Status{
		Status: metav1.StatusFailure, Reason: metav1.StatusReasonInternalError, Code: http.StatusInternalServerError,
		Message: fmt.Sprintf("error executing command in container: %v", err),
	}
}

// decodeResizes reads the JSON terminal sizes of the resize channel.
func decodeResizes(ctx context.Context, r io.Reader) <-chan runtime.TerminalSize {
	out := make(chan runtime.TerminalSize, 1)
	go func() {
		defer close(out)
		dec := json.NewDecoder(r)
		for {
			var size runtime.TerminalSize
			if err := dec.Decode(&size); err != nil {
				return
			}
			select {
			case out <- size:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}
