package probes

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// maxBody is how much of a response body is read (and kept as the
// success message).
const maxBody = 10 << 10

// maxRedirects matches Go's default and the kubelet's.
const maxRedirects = 10

func (p *Prober) httpGet(ctx context.Context, t Target, a *corev1.HTTPGetAction, timeout time.Duration) Outcome {
	req, err := p.httpRequest(ctx, t, a)
	if err != nil {
		return unknown("%v", err)
	}
	if p.simulated {
		return Outcome{Result: Success}
	}
	redirectRefused := false
	client := &http.Client{
		Timeout:   timeout,
		Transport: p.transport(),
		// Redirects are followed only on the same host, so a probe is
		// never sent somewhere the pod does not control.
		CheckRedirect: func(r *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			if r.URL.Hostname() != via[0].URL.Hostname() {
				redirectRefused = true
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	defer client.CloseIdleConnections()
	res, err := client.Do(req)
	if err != nil {
		return failure("%v", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil && !errors.Is(err, io.EOF) {
		return failure("%v", err)
	}
	if res.StatusCode < http.StatusOK || res.StatusCode >= http.StatusBadRequest {
		return failure("HTTP probe failed with statuscode: %d", res.StatusCode)
	}
	if redirectRefused && res.StatusCode >= http.StatusMultipleChoices {
		return Outcome{Result: Warning, Message: fmt.Sprintf("Probe terminated redirects, Response body: %s", body)}
	}
	return Outcome{Result: Success, Message: string(body)}
}

// transport dials through the prober's dialer, never through a proxy,
// and accepts any certificate: pods serve self-signed ones.
func (p *Prober) transport() *http.Transport {
	return &http.Transport{
		DialContext:       p.dial,
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
		DisableKeepAlives: true,
	}
}

// httpRequest builds the GET of an httpGet handler: scheme, host (the
// pod address by default), port (a number or a named container port),
// path and headers, with the kubelet's User-Agent and Accept unless the
// handler sets its own.
func (p *Prober) httpRequest(ctx context.Context, t Target, a *corev1.HTTPGetAction) (*http.Request, error) {
	port, err := resolvePort(a.Port, t.Container)
	if err != nil {
		return nil, err
	}
	scheme := strings.ToLower(string(a.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	path := a.Path
	if path != "" && !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u, err := url.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("invalid path %q: %w", a.Path, err)
	}
	u.Scheme, u.Host = scheme, hostPort(a.Host, t, port)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("http request: %w", err)
	}
	for _, h := range a.HTTPHeaders {
		if strings.EqualFold(h.Name, "Host") {
			req.Host = h.Value
			continue
		}
		req.Header.Add(h.Name, h.Value)
	}
	if _, ok := req.Header["User-Agent"]; !ok {
		req.Header.Set("User-Agent", p.userAgent)
	}
	if _, ok := req.Header["Accept"]; !ok {
		req.Header.Set("Accept", "*/*")
	}
	return req, nil
}
