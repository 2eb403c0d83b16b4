package apiserver

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/proxy"

	"github.com/tugcluster/tug/pkg/storage"
)

// defaultKubeletPort is used for nodes that publish no kubelet endpoint.
const defaultKubeletPort = 10250

// newKubeletTransport is the client of node agents: it presents the
// API server's client certificate and, like Kubernetes by default, does
// not verify the agents' self-signed serving certificates.
func newKubeletTransport(cert *tls.Certificate) *http.Transport {
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // agents serve self-signed certificates
		NextProtos:         []string{"http/1.1"},
	}
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tc,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 10,
		IdleConnTimeout:     90 * time.Second,
	}
}

// proxyPodStream serves pods/log, exec, attach and portforward by
// proxying to the agent of the pod's node; upgrades (SPDY, WebSocket)
// pass through untouched.
func (s *Server) proxyPodStream(req *request) error {
	sub := req.info.Subresource
	switch {
	case sub == "proxy":
		return apierrors.NewServiceUnavailable("pods/proxy is not supported; use port-forward")
	case sub == "log" && req.Method != http.MethodGet:
		return errMethodNotAllowed(req)
	case sub != "log" && req.Method != http.MethodGet && req.Method != http.MethodPost:
		return errMethodNotAllowed(req)
	}
	pod := &corev1.Pod{}
	if err := req.res.store.Get(req.Context(), req.res.key(req.info.Namespace, req.info.Name), storage.GetOptions{}, pod); err != nil {
		return err
	}
	if pod.Spec.NodeName == "" {
		return apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", pod.Name))
	}
	path, query, err := agentPath(pod, sub, req.URL.Query())
	if err != nil {
		return err
	}
	addr, err := s.agentAddress(req, pod.Spec.NodeName)
	if err != nil {
		return err
	}
	loc := &url.URL{Scheme: "https", Host: addr, Path: path, RawQuery: query.Encode()}
	out := req.Clone(req.Context())
	out.URL.RawQuery = loc.RawQuery
	// The caller's credentials are for the API server, not for nodes.
	out.Header.Del("Authorization")
	for k := range out.Header {
		if strings.HasPrefix(strings.ToLower(k), "impersonate-") {
			out.Header.Del(k)
		}
	}
	h := proxy.NewUpgradeAwareHandler(loc, s.kubelet, false, false, &agentErrorResponder{s: s, orig: req.Request, node: pod.Spec.NodeName, addr: addr})
	h.UseLocationHost = true
	h.FlushInterval = 100 * time.Millisecond
	h.ServeHTTP(req.w, out)
	return nil
}

// agentPath maps an API subresource request to the agent's path and
// query, checking the container against the pod.
func agentPath(pod *corev1.Pod, sub string, in url.Values) (string, url.Values, error) {
	base := pod.Namespace + "/" + pod.Name
	out := url.Values{}
	switch sub {
	case "portforward":
		if ports, ok := in["ports"]; ok {
			out["ports"] = ports
		}
		return "/portforward/" + base, out, nil
	case "log":
		for _, k := range []string{"follow", "previous", "timestamps", "tailLines", "limitBytes", "sinceSeconds", "sinceTime"} {
			if v := in.Get(k); v != "" {
				out.Set(k, v)
			}
		}
	case "exec", "attach":
		// The node API names the streams input/output/error.
		for from, to := range map[string]string{"stdin": "input", "stdout": "output", "stderr": "error", "tty": "tty"} {
			if isTrue(in.Get(from)) {
				out.Set(to, "1")
			}
		}
		if sub == "exec" {
			out["command"] = in["command"]
		}
	default:
		return "", nil, errNotFoundPath()
	}
	container, err := podContainer(pod, in.Get("container"))
	if err != nil {
		return "", nil, err
	}
	prefix := map[string]string{"log": "/containerLogs/", "exec": "/exec/", "attach": "/attach/"}[sub]
	return prefix + base + "/" + container, out, nil
}

// podContainer validates the requested container, defaulting to the only
// one of a single-container pod.
func podContainer(pod *corev1.Pod, name string) (string, error) {
	var names, inits []string
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name)
	}
	for _, c := range pod.Spec.InitContainers {
		inits = append(inits, c.Name)
	}
	if name == "" {
		if len(names) == 1 {
			return names[0], nil
		}
		msg := fmt.Sprintf("a container name must be specified for pod %s, choose one of: %v", pod.Name, names)
		if len(inits) > 0 {
			msg += fmt.Sprintf(" or one of the init containers: %v", inits)
		}
		return "", apierrors.NewBadRequest(msg)
	}
	for _, n := range append(names, inits...) {
		if n == name {
			return name, nil
		}
	}
	for _, c := range pod.Spec.EphemeralContainers {
		if c.Name == name {
			return name, nil
		}
	}
	return "", apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", name, pod.Name))
}

// agentAddress looks up a node and returns its agent's address.
func (s *Server) agentAddress(req *request, nodeName string) (string, error) {
	nodes := s.lookup("", "v1", "nodes")
	node := &corev1.Node{}
	if err := nodes.store.Get(req.Context(), nodes.key("", nodeName), storage.GetOptions{}, node); err != nil {
		if apierrors.IsNotFound(err) {
			return "", apierrors.NewServiceUnavailable(fmt.Sprintf("node %q of the pod is not registered", nodeName))
		}
		return "", err
	}
	return agentAddressOf(node)
}

// agentAddressOf is host:port of a node's agent: its InternalIP (else
// another address) and the published kubelet port.
func agentAddressOf(node *corev1.Node) (string, error) {
	host := ""
	for _, t := range []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeExternalIP, corev1.NodeHostName} {
		for _, a := range node.Status.Addresses {
			if a.Type == t && host == "" {
				host = a.Address
			}
		}
	}
	if host == "" {
		return "", apierrors.NewServiceUnavailable(fmt.Sprintf("node %q has no address", node.Name))
	}
	port := int(node.Status.DaemonEndpoints.KubeletEndpoint.Port)
	if port <= 0 {
		port = defaultKubeletPort
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// agentErrorResponder reports a node that cannot be reached.
type agentErrorResponder struct {
	s          *Server
	orig       *http.Request // the API request, for the error log
	node, addr string
}

func (r *agentErrorResponder) Error(w http.ResponseWriter, _ *http.Request, err error) {
	r.s.writeError(w, r.orig, apierrors.NewServiceUnavailable(
		fmt.Sprintf("node %q is unreachable at %s: %v", r.node, r.addr, err)), schemaNone, "")
}
