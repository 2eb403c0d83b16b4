package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
)

func TestPortForward(t *testing.T) {
	dialers := map[string]func(t *testing.T, e *env, u *url.URL) (*portforward.PortForwarder, chan struct{}){
		"spdy": func(t *testing.T, e *env, u *url.URL) (*portforward.PortForwarder, chan struct{}) {
			rt, upgrader, err := spdy.RoundTripperFor(e.config)
			if err != nil {
				t.Fatal(err)
			}
			d := spdy.NewDialer(upgrader, &http.Client{Transport: rt}, "POST", u)
			return newForwarder(t, d)
		},
		"websocket": func(t *testing.T, e *env, u *url.URL) (*portforward.PortForwarder, chan struct{}) {
			d, err := portforward.NewSPDYOverWebsocketDialer(u, e.config)
			if err != nil {
				t.Fatal(err)
			}
			return newForwarder(t, d)
		},
	}
	for proto, dial := range dialers {
		t.Run(proto, func(t *testing.T) {
			e := start(t)
			e.runPod(t, "ns1", "db", "app")
			u, _ := url.Parse(e.base + "/portforward/ns1/db")
			fw, stop := dial(t, e, u)
			defer close(stop)
			ports, err := fw.GetPorts()
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", ports[0].Local), 5*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				msg := fmt.Sprintf("ping %d\n", i)
				if _, err := io.WriteString(conn, msg); err != nil {
					t.Fatal(err)
				}
				got, err := bufio.NewReader(conn).ReadString('\n')
				conn.Close()
				if err != nil || got != msg {
					t.Fatalf("echo through the tunnel: %q, %v", got, err)
				}
				select {
				case addr := <-e.dialed:
					if host, port, _ := net.SplitHostPort(addr); port != "5432" || !isPodAddress(host) {
						t.Errorf("dialed %s, want the pod address and port 5432", addr)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("the agent dialed nothing")
				}
			}
		})
	}
}

func isPodAddress(host string) bool {
	ip := net.ParseIP(host)
	_, cidr, _ := net.ParseCIDR("10.42.7.0/24")
	return ip != nil && cidr.Contains(ip)
}

func newForwarder(t *testing.T, d httpstream.Dialer) (*portforward.PortForwarder, chan struct{}) {
	t.Helper()
	stop, ready := make(chan struct{}), make(chan struct{})
	fw, err := portforward.New(d, []string{"0:5432"}, stop, ready, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 1)
	go func() { errs <- fw.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-errs:
		t.Fatalf("forward ports: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("port-forward not ready")
	}
	return fw, stop
}
