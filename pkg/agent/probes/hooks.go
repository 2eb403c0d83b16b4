package probes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// RunHook runs a lifecycle handler (postStart or preStop) and returns an
// error whose text is the message of the FailedPostStartHook or
// FailedPreStopHook Event. ctx bounds the hook: a preStop hook gets the
// grace period. A sleep handler that ctx cuts short is not an error.
func (p *Prober) RunHook(ctx context.Context, t Target, h *corev1.LifecycleHandler) error {
	pod := fmt.Sprintf("%s_%s(%s)", t.Pod.Name, t.Pod.Namespace, t.Pod.UID)
	switch {
	case h.Exec != nil:
		if p.execer == nil {
			return fmt.Errorf("Exec lifecycle hook (%v) for Container %q in Pod %q failed - error: exec is not supported by this runtime, message: \"\"", h.Exec.Command, t.Container.Name, pod)
		}
		var timeout time.Duration
		if dl, ok := ctx.Deadline(); ok {
			timeout = time.Until(dl)
		}
		res, err := p.execer.ExecSync(ctx, t.ContainerID, h.Exec.Command, timeout)
		msg := ""
		if err == nil {
			msg = string(res.Stdout) + string(res.Stderr)
			if res.ExitCode != 0 {
				err = fmt.Errorf("command '%s' exited with %d: %s", strings.Join(h.Exec.Command, " "), res.ExitCode, msg)
			}
		}
		if err != nil {
			return fmt.Errorf("Exec lifecycle hook (%v) for Container %q in Pod %q failed - error: %w, message: %q", h.Exec.Command, t.Container.Name, pod, err, msg)
		}
		return nil
	case h.HTTPGet != nil:
		if err := p.hookHTTP(ctx, t, h.HTTPGet); err != nil {
			return fmt.Errorf("HTTP lifecycle hook (%s) for Container %q in Pod %q failed - error: %w", h.HTTPGet.Path, t.Container.Name, pod, err)
		}
		return nil
	case h.Sleep != nil:
		timer := time.NewTimer(time.Duration(h.Sleep.Seconds) * time.Second)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-ctx.Done():
		}
		return nil
	case h.TCPSocket != nil:
		return fmt.Errorf("TCPSocket lifecycle hook for Container %q in Pod %q is not supported", t.Container.Name, pod)
	}
	return fmt.Errorf("invalid lifecycle handler for Container %q in Pod %q", t.Container.Name, pod)
}

// hookHTTP sends the hook's GET; a status outside 200-399 is an error.
func (p *Prober) hookHTTP(ctx context.Context, t Target, a *corev1.HTTPGetAction) error {
	req, err := p.httpRequest(ctx, t, a)
	if err != nil {
		return err
	}
	if p.simulated {
		return nil
	}
	client := &http.Client{Transport: p.transport()}
	defer client.CloseIdleConnections()
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, io.LimitReader(res.Body, maxBody)); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if res.StatusCode < http.StatusOK || res.StatusCode >= http.StatusBadRequest {
		return fmt.Errorf("HTTP lifecycle hook failed with statuscode: %d", res.StatusCode)
	}
	return nil
}
