package containerd

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"time"

	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/containerd/v2/core/remotes/docker"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// newResolver resolves image references through the configured mirrors
// and then the registry itself, with the pod's credentials for the
// image's registry and registries.yaml's for the others.
func newResolver(regs *Registries, imageHost string, auth *runtime.Auth) remotes.Resolver {
	return docker.NewResolver(docker.ResolverOptions{Hosts: func(host string) ([]docker.RegistryHost, error) {
		return registryHosts(regs, host, imageHost, auth)
	}})
}

func registryHosts(regs *Registries, host, imageHost string, auth *runtime.Auth) ([]docker.RegistryHost, error) {
	var endpoints []*url.URL
	if m, ok := regs.Mirrors[host]; ok {
		endpoints = append(endpoints, m.Endpoints...)
	} else if m, ok := regs.Mirrors["*"]; ok {
		endpoints = append(endpoints, m.Endpoints...)
	}
	def := host
	if host == "docker.io" {
		def = "registry-1.docker.io"
	}
	scheme := "https"
	if c, ok := regs.Configs[host]; ok && c.Insecure {
		scheme = "http"
	}
	endpoints = append(endpoints, &url.URL{Scheme: scheme, Host: def})

	var out []docker.RegistryHost
	for _, u := range endpoints {
		cfg := regs.Configs[u.Host]
		client, err := httpClient(cfg.TLS)
		if err != nil {
			return nil, fmt.Errorf("registry %s: %w", u.Host, err)
		}
		p := strings.TrimSuffix(u.Path, "/")
		if !strings.HasSuffix(p, "/v2") {
			p = path.Join("/", p, "v2")
		}
		creds := credentials(cfg.Auth, host == imageHost, auth)
		var hdr http.Header
		if host == imageHost && auth != nil && auth.RegistryToken != "" {
			hdr = http.Header{"Authorization": {"Bearer " + auth.RegistryToken}}
		}
		authz := docker.NewDockerAuthorizer(docker.WithAuthClient(client), docker.WithAuthCreds(creds), docker.WithAuthHeader(hdr))
		out = append(out, docker.RegistryHost{
			Client: client, Authorizer: authz, Host: u.Host, Scheme: u.Scheme, Path: p,
			Capabilities: docker.HostCapabilityPull | docker.HostCapabilityResolve,
		})
	}
	return out, nil
}

// credentials prefers the pod's imagePullSecrets for the image's own
// registry, then the registry's configured auth.
func credentials(cfg RegistryAuth, forImage bool, auth *runtime.Auth) func(string) (string, string, error) {
	return func(string) (string, string, error) {
		if forImage && auth != nil {
			if auth.IdentityToken != "" {
				return "", auth.IdentityToken, nil
			}
			if auth.Username != "" || auth.Password != "" {
				return auth.Username, auth.Password, nil
			}
		}
		switch {
		case cfg.IdentityToken != "":
			return "", cfg.IdentityToken, nil
		case cfg.Username != "" || cfg.Password != "":
			return cfg.Username, cfg.Password, nil
		case cfg.Auth != "":
			b, err := base64.StdEncoding.DecodeString(cfg.Auth)
			if err != nil {
				return "", "", fmt.Errorf("registry auth: %w", err)
			}
			u, p, _ := strings.Cut(string(b), ":")
			return u, p, nil
		}
		return "", "", nil
	}
}

func httpClient(t RegistryTLS) (*http.Client, error) {
	tc := &tls.Config{InsecureSkipVerify: t.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, err
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no certificates in %s", t.CAFile)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, err
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tc,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConns:        10,
		IdleConnTimeout:     30 * time.Second,
	}
	return &http.Client{Transport: tr}, nil
}
