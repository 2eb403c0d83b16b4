package containerd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// criRecord is one parsed line of a CRI log file.
type criRecord struct {
	t       time.Time
	stream  string
	partial bool
	text    []byte
}

// parseCRILine parses "<time> <stream> <F|P> <text>" (without the
// newline).
func parseCRILine(line []byte) (criRecord, error) {
	f := bytes.SplitN(line, []byte(" "), 4)
	if len(f) < 3 {
		return criRecord{}, fmt.Errorf("malformed log line %q", line)
	}
	t, err := time.Parse(time.RFC3339Nano, string(f[0]))
	if err != nil {
		return criRecord{}, fmt.Errorf("malformed log time %q", f[0])
	}
	rec := criRecord{t: t, stream: string(f[1]), partial: string(f[2]) == "P"}
	if len(f) == 4 {
		rec.text = f[3]
	}
	return rec, nil
}

// ContainerLogs writes the container's output (both streams, in order)
// to w, as the kubelet serves `kubectl logs`.
func (r *Runtime) ContainerLogs(ctx context.Context, id string, opts runtime.LogOptions, w io.Writer) error {
	c, err := r.client.LoadContainer(r.ctx(ctx), id)
	if err != nil {
		return fmt.Errorf("logs of %s: %w", id, notFound(err))
	}
	labels, err := c.Labels(r.ctx(ctx))
	if err != nil {
		return fmt.Errorf("logs of %s: %w", id, notFound(err))
	}
	path := labels[labelLogPath]
	lw := &logLineWriter{w: w, opts: opts}
	// Rotated files first, oldest first, unless following only new output.
	var files []string
	for i := r.cfg.LogMaxFiles; i >= 1; i-- {
		files = append(files, fmt.Sprintf("%s.%d", path, i))
	}
	files = append(files, path)
	var lines [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("logs of %s: %w", id, err)
		}
		lines = append(lines, bytes.SplitAfter(b, []byte("\n"))...)
	}
	if opts.TailLines >= 0 {
		lines = tailComplete(lines, opts.TailLines)
	}
	for _, l := range lines {
		if err := lw.line(l); err != nil {
			return err
		}
	}
	if !opts.Follow {
		return nil
	}
	return r.follow(ctx, id, path, lw)
}

// tailComplete keeps the records making up the last n complete lines.
func tailComplete(lines [][]byte, n int64) [][]byte {
	var full int64
	for i := len(lines) - 1; i >= 0; i-- {
		rec, err := parseCRILine(bytes.TrimSuffix(lines[i], []byte("\n")))
		if err != nil || rec.partial {
			continue
		}
		if full == n {
			return lines[i+1:]
		}
		full++
	}
	return lines
}

// follow streams records appended to path until the container exits and
// the file is drained, or ctx ends.
func (r *Runtime) follow(ctx context.Context, id, path string, lw *logLineWriter) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("follow logs of %s: %w", id, err)
	}
	defer func() { f.Close() }()
	st, _ := f.Stat()
	offset := st.Size()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return err
	}
	br := bufio.NewReader(f)
	var pending []byte
	for {
		chunk, err := br.ReadBytes('\n')
		pending = append(pending, chunk...)
		if err == nil {
			if werr := lw.line(pending); werr != nil {
				return werr
			}
			pending = pending[:0]
			continue
		}
		// At the end of the file: rotated away, container gone, or wait.
		if cur, serr := os.Stat(path); serr == nil {
			if info, ferr := f.Stat(); ferr == nil && !os.SameFile(info, cur) {
				nf, oerr := os.Open(path)
				if oerr == nil {
					f.Close()
					f, br, pending = nf, bufio.NewReader(nf), pending[:0]
					continue
				}
			}
		}
		cs, serr := r.ContainerStatus(ctx, id)
		if serr != nil || cs.State == runtime.ContainerExited {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// logLineWriter turns CRI records into plain output: partial records
// are joined, "since" and timestamps applied.
type logLineWriter struct {
	w    io.Writer
	opts runtime.LogOptions
	buf  []byte
	t    time.Time
}

func (l *logLineWriter) line(raw []byte) error {
	raw = bytes.TrimSuffix(raw, []byte("\n"))
	if len(raw) == 0 {
		return nil
	}
	rec, err := parseCRILine(raw)
	if err != nil {
		return nil // a torn write; skip it
	}
	if len(l.buf) == 0 {
		l.t = rec.t
	}
	l.buf = append(l.buf, rec.text...)
	if rec.partial {
		return nil
	}
	defer func() { l.buf = l.buf[:0] }()
	if !l.opts.Since.IsZero() && l.t.Before(l.opts.Since) {
		return nil
	}
	out := make([]byte, 0, len(l.buf)+40)
	if l.opts.Timestamps {
		out = append(l.t.UTC().AppendFormat(out, time.RFC3339Nano), ' ')
	}
	out = append(append(out, l.buf...), '\n')
	_, err = l.w.Write(out)
	return err
}
