//go:build e2e

package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// apiClient reads objects from the API server with the admin credentials,
// over connections made inside the server's test host. Tests change the
// cluster only through `tug kubectl`; this client is for polling.
type apiClient struct {
	base string
	http *http.Client
}

// kubeconfigFile is the part of the admin kubeconfig the client needs.
type kubeconfigFile struct {
	Clusters []struct {
		Cluster struct {
			Server string `json:"server"`
			CA     []byte `json:"certificate-authority-data"`
		} `json:"cluster"`
	} `json:"clusters"`
	Users []struct {
		User struct {
			Cert []byte `json:"client-certificate-data"`
			Key  []byte `json:"client-key-data"`
		} `json:"user"`
	} `json:"users"`
}

// newAPIClient reads the admin kubeconfig at path; connections start in
// the network namespace at nsPath.
func newAPIClient(path, nsPath string) (*apiClient, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var kc kubeconfigFile
	if err := yaml.Unmarshal(b, &kc); err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	if len(kc.Clusters) != 1 || len(kc.Users) != 1 {
		return nil, fmt.Errorf("kubeconfig %s: want one cluster and one user", path)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(kc.Clusters[0].Cluster.CA) {
		return nil, fmt.Errorf("kubeconfig %s: no CA certificate", path)
	}
	cert, err := tls.X509KeyPair(kc.Users[0].User.Cert, kc.Users[0].User.Key)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: client certificate: %w", path, err)
	}
	tlsConfig := &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	return &apiClient{base: kc.Clusters[0].Cluster.Server, http: httpClientIn(nsPath, tlsConfig)}, nil
}

// errNotFound is a 404 from the API server.
var errNotFound = errors.New("not found")

// get decodes the object at path (e.g. /api/v1/nodes/n1) into out.
func (a *apiClient) get(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+path, nil)
	if err != nil {
		return err
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("GET %s: %w", path, errNotFound)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}

// pod returns the pod, or errNotFound.
func (a *apiClient) pod(ctx context.Context, ns, name string) (*corev1.Pod, error) {
	var p corev1.Pod
	if err := a.get(ctx, "/api/v1/namespaces/"+ns+"/pods/"+name, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// podsOnNode lists the pods bound to node, in all namespaces.
func (a *apiClient) podsOnNode(ctx context.Context, node string) ([]corev1.Pod, error) {
	var l corev1.PodList
	if err := a.get(ctx, "/api/v1/pods?fieldSelector=spec.nodeName%3D"+node, &l); err != nil {
		return nil, err
	}
	return l.Items, nil
}

// node returns the node, or errNotFound.
func (a *apiClient) node(ctx context.Context, name string) (*corev1.Node, error) {
	var n corev1.Node
	if err := a.get(ctx, "/api/v1/nodes/"+name, &n); err != nil {
		return nil, err
	}
	return &n, nil
}

// poll calls check every interval until it reports done, returns an error
// that is not retryable, or timeout passes; the last error is returned.
func poll(timeout, interval time.Duration, check func(ctx context.Context) (done bool, err error)) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		done, err := check(ctx)
		cancel()
		if done {
			return nil
		}
		if err != nil {
			last = err
		}
		if time.Now().After(deadline) {
			if last == nil {
				last = errors.New("condition not met")
			}
			return fmt.Errorf("after %v: %w", timeout, last)
		}
		time.Sleep(interval)
	}
}

// nodeReady reports whether n's Ready condition is True.
func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podReady reports whether p's Ready condition is True.
func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// containerStatus is the status of p's container name, or nil.
func containerStatus(p *corev1.Pod, name string) *corev1.ContainerStatus {
	for i := range p.Status.ContainerStatuses {
		if p.Status.ContainerStatuses[i].Name == name {
			return &p.Status.ContainerStatuses[i]
		}
	}
	return nil
}
