package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"

	gwebsocket "github.com/gorilla/websocket"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	clientportforward "k8s.io/client-go/tools/portforward"
	"k8s.io/cri-streaming/pkg/streaming/portforward"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/spdy"
	"k8s.io/streaming/pkg/httpstream/wsstream"
)

// servePortForward forwards connections to the pod's ports: over SPDY,
// over WebSocket (v4 channels, ?ports=…), or over SPDY tunnelled in a
// WebSocket as current kubectl tries first.
func (s *Server) servePortForward(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		writeError(w, apierrors.NewMethodNotSupported(podsResource, r.Method))
		return
	}
	ns, pod := r.PathValue("namespace"), r.PathValue("pod")
	sandboxes, err := s.podSandboxes(r.Context(), ns, pod)
	if err != nil {
		writeError(w, err)
		return
	}
	ip := sandboxes[0].IP
	if ip == "" {
		// Host-network pods listen on the node itself.
		ip = "127.0.0.1"
	}
	fwd := &forwarder{dial: s.cfg.Dial, ip: ip}
	var v4 *portforward.V4Options
	switch {
	case wsstream.IsWebSocketRequestWithTunnelingProtocol(r):
		s.serveTunneledPortForward(w, r, fwd, pod)
		return
	case wsstream.IsWebSocketRequest(r):
		if v4, err = portforward.NewV4Options(r); err != nil {
			writeError(w, apierrors.NewBadRequest(err.Error()))
			return
		}
	}
	portforward.ServePortForward(w, r, fwd, pod, "", v4, s.cfg.StreamIdleTimeout, s.cfg.StreamCreationTimeout,
		portforward.SupportedProtocols)
}

// serveTunneledPortForward accepts the WebSocket, then serves SPDY port
// forwarding over it as if the client had upgraded to SPDY directly.
func (s *Server) serveTunneledPortForward(w http.ResponseWriter, r *http.Request, fwd *forwarder, pod string) {
	upgrader := gwebsocket.Upgrader{
		Subprotocols:    []string{portforward.WebsocketsSPDYTunnelingPortForwardV1},
		CheckOrigin:     func(*http.Request) bool { return true },
		ReadBufferSize:  32 << 10,
		WriteBufferSize: 32 << 10,
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.cfg.Logger.Debug("port-forward websocket upgrade failed", "err", err)
		return
	}
	tunnel := clientportforward.NewTunnelingConnection("agent", ws)
	defer tunnel.Close()
	spdyReq := r.Clone(r.Context())
	for _, h := range []string{"Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Protocol", "Sec-Websocket-Extensions"} {
		spdyReq.Header.Del(h)
	}
	spdyReq.Header.Set(httpstream.HeaderConnection, httpstream.HeaderUpgrade)
	spdyReq.Header.Set(httpstream.HeaderUpgrade, spdy.HeaderSpdy31)
	spdyReq.Header.Set(httpstream.HeaderProtocolVersion, portforward.ProtocolV1Name)
	tw := &tunnelResponseWriter{conn: tunnel, header: http.Header{}}
	portforward.ServePortForward(tw, spdyReq, fwd, pod, "", nil, s.cfg.StreamIdleTimeout, s.cfg.StreamCreationTimeout,
		portforward.SupportedProtocols)
}

// tunnelResponseWriter hands the tunnel to the SPDY upgrade code; the
// WebSocket handshake already answered the client, so the SPDY upgrade's
// own response is dropped.
type tunnelResponseWriter struct {
	conn   net.Conn
	header http.Header
}

func (t *tunnelResponseWriter) Header() http.Header         { return t.header }
func (t *tunnelResponseWriter) Write(p []byte) (int, error) { return len(p), nil }
func (t *tunnelResponseWriter) WriteHeader(int)             {}
func (t *tunnelResponseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return t.conn, bufio.NewReadWriter(bufio.NewReader(t.conn), bufio.NewWriter(t.conn)), nil
}

// forwarder copies one forwarded connection to the pod address.
type forwarder struct {
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
	ip   string
}

func (f *forwarder) PortForward(ctx context.Context, _, _ string, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	addr := net.JoinHostPort(f.ip, strconv.Itoa(int(port)))
	conn, err := f.dial(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("port-forward to %s: %w", addr, err)
	}
	defer conn.Close()
	go func() {
		_, _ = io.Copy(conn, stream)
		// The client is done sending; let the pod see EOF.
		if cw, ok := conn.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
	}()
	_, err = io.Copy(stream, conn)
	// The pod closed its side; the copy above ends when the client's
	// stream or the whole connection does.
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("port-forward from %s: %w", addr, err)
	}
	return nil
}
