package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// logRequest is the parsed query of /containerLogs.
type logRequest struct {
	opts       runtime.LogOptions
	previous   bool
	limitBytes int64 // 0: no limit
}

func parseLogRequest(r *http.Request, now time.Time) (logRequest, error) {
	q := r.URL.Query()
	lr := logRequest{opts: runtime.LogOptions{TailLines: -1}}
	lr.opts.Follow = isTrue(q.Get("follow"))
	lr.opts.Timestamps = isTrue(q.Get("timestamps"))
	lr.previous = isTrue(q.Get("previous"))
	if v := q.Get("tailLines"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return lr, apierrors.NewBadRequest(fmt.Sprintf("tailLines: %q is not a non-negative integer", v))
		}
		lr.opts.TailLines = n
	}
	if v := q.Get("limitBytes"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return lr, apierrors.NewBadRequest(fmt.Sprintf("limitBytes: %q is not a positive integer", v))
		}
		lr.limitBytes = n
	}
	sinceSeconds, sinceTime := q.Get("sinceSeconds"), q.Get("sinceTime")
	switch {
	case sinceSeconds != "" && sinceTime != "":
		return lr, apierrors.NewBadRequest("at most one of sinceTime or sinceSeconds may be specified")
	case sinceSeconds != "":
		n, err := strconv.ParseInt(sinceSeconds, 10, 64)
		if err != nil || n < 1 {
			return lr, apierrors.NewBadRequest(fmt.Sprintf("sinceSeconds: %q is not a positive integer", sinceSeconds))
		}
		lr.opts.Since = now.Add(-time.Duration(n) * time.Second)
	case sinceTime != "":
		t, err := time.Parse(time.RFC3339, sinceTime)
		if err != nil {
			return lr, apierrors.NewBadRequest(fmt.Sprintf("sinceTime: %q is not an RFC 3339 time", sinceTime))
		}
		lr.opts.Since = t
	}
	return lr, nil
}

func isTrue(s string) bool { return s == "true" || s == "1" }

// serveLogs streams one container's output as plain text.
func (s *Server) serveLogs(w http.ResponseWriter, r *http.Request) {
	ns, pod, name := r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container")
	lr, err := parseLogRequest(r, s.cfg.Now())
	if err != nil {
		writeError(w, err)
		return
	}
	reader, ok := s.cfg.Runtime.(runtime.LogReader)
	if !ok {
		writeError(w, errNotSupported("container logs"))
		return
	}
	c, err := s.findContainer(r.Context(), ns, pod, name, lr.previous)
	if err != nil {
		writeError(w, err)
		return
	}
	if c.State == runtime.ContainerExited {
		// Nothing more will be written.
		lr.opts.Follow = false
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	out := &logWriter{w: w, limit: lr.limitBytes > 0, left: lr.limitBytes}
	if f, ok := w.(http.Flusher); ok && lr.opts.Follow {
		out.flush = f.Flush
	}
	err = reader.ContainerLogs(r.Context(), c.ID, lr.opts, out)
	switch {
	case err == nil, errors.Is(err, errLimitReached), r.Context().Err() != nil:
	case !out.wrote:
		writeError(w, fmt.Errorf("logs of %s/%s/%s: %w", ns, pod, name, err))
	default:
		// The body has started; all that is left is to end it early.
		s.cfg.Logger.Warn("container logs ended early", "pod", ns+"/"+pod, "container", name, "err", err)
	}
}

var errLimitReached = errors.New("limitBytes reached")

// logWriter writes at most left bytes when limit is set, and flushes
// after each write while following.
type logWriter struct {
	w     io.Writer
	limit bool
	left  int64
	flush func()
	wrote bool
}

func (l *logWriter) Write(p []byte) (int, error) {
	n, cut := len(p), false
	if l.limit {
		if l.left <= 0 {
			return 0, errLimitReached
		}
		if int64(len(p)) > l.left {
			p, cut = p[:l.left], true
		}
	}
	written, err := l.w.Write(p)
	l.wrote = l.wrote || written > 0
	l.left -= int64(written)
	if l.flush != nil {
		l.flush()
	}
	switch {
	case err != nil:
		return written, err
	case cut:
		return written, errLimitReached
	}
	return n, nil
}
