package crilog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// Record is one parsed line of a CRI log file.
type Record struct {
	Time    time.Time
	Stream  string
	Partial bool
	Text    []byte
}

// ParseLine parses one record without its newline.
func ParseLine(line []byte) (Record, error) {
	f := bytes.SplitN(line, []byte(" "), 4)
	if len(f) < 3 {
		return Record{}, fmt.Errorf("malformed log line %q", line)
	}
	t, err := time.Parse(time.RFC3339Nano, string(f[0]))
	if err != nil {
		return Record{}, fmt.Errorf("malformed log time %q: %w", f[0], err)
	}
	tag := string(f[2])
	if tag != "P" && tag != "F" {
		return Record{}, fmt.Errorf("malformed log tag %q", tag)
	}
	rec := Record{Time: t, Stream: string(f[1]), Partial: tag == "P"}
	if len(f) == 4 {
		rec.Text = f[3]
	}
	return rec, nil
}

// assembler joins partial records into whole lines, per stream; a line
// carries the time of its first fragment.
type assembler struct {
	pending map[string]*Record
}

func (a *assembler) add(rec Record) (Record, bool) {
	if a.pending == nil {
		a.pending = map[string]*Record{}
	}
	if p, ok := a.pending[rec.Stream]; ok {
		p.Text = append(p.Text, rec.Text...)
		if rec.Partial {
			return Record{}, false
		}
		delete(a.pending, rec.Stream)
		return *p, true
	}
	if rec.Partial {
		r := rec
		r.Text = append([]byte(nil), rec.Text...)
		a.pending[rec.Stream] = &r
		return Record{}, false
	}
	return rec, true
}

// scan parses the complete lines of data and returns the whole log lines
// and how many bytes it consumed (up to the last newline). Malformed
// lines are skipped.
func (a *assembler) scan(data []byte) (lines []Record, consumed int) {
	for {
		i := bytes.IndexByte(data[consumed:], '\n')
		if i < 0 {
			return lines, consumed
		}
		line := data[consumed : consumed+i]
		consumed += i + 1
		rec, err := ParseLine(line)
		if err != nil {
			continue
		}
		rec.Text = append([]byte(nil), rec.Text...)
		if whole, ok := a.add(rec); ok {
			lines = append(lines, whole)
		}
	}
}

// Files returns a log file and its rotated predecessors, oldest first:
// path.keep … path.1, path.
func Files(path string, keep int) []string {
	var files []string
	for i := keep; i >= 1; i-- {
		files = append(files, fmt.Sprintf("%s.%d", path, i))
	}
	return append(files, path)
}

// FollowInterval is how often a followed file is checked for new lines.
const FollowInterval = 100 * time.Millisecond

// Read writes the log lines of files (oldest first, the last one current)
// selected by opts to w, and with opts.Follow keeps writing the current
// file's new lines, across rotation, until ctx ends. Missing files are
// skipped.
func Read(ctx context.Context, files []string, opts runtime.LogOptions, w io.Writer) error {
	var a assembler
	var lines []Record
	var current *os.File
	var offset int64
	defer func() {
		if current != nil {
			current.Close()
		}
	}()
	for i, name := range files {
		f, err := os.Open(name)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read log: %w", err)
		}
		data, err := io.ReadAll(f)
		if err != nil {
			f.Close()
			return fmt.Errorf("read log: %w", err)
		}
		got, consumed := a.scan(data)
		lines = append(lines, got...)
		if i == len(files)-1 {
			current, offset = f, int64(consumed)
		} else {
			f.Close()
		}
	}
	lines = since(lines, opts.Since)
	if opts.TailLines >= 0 && int64(len(lines)) > opts.TailLines {
		lines = lines[int64(len(lines))-opts.TailLines:]
	}
	for _, l := range lines {
		if err := writeLine(w, l, opts.Timestamps, true); err != nil {
			return err
		}
	}
	if !opts.Follow {
		// An unfinished line is shown as far as it goes.
		for _, p := range a.pending {
			if !p.Time.Before(opts.Since) {
				if err := writeLine(w, *p, opts.Timestamps, false); err != nil {
					return err
				}
			}
		}
		return nil
	}
	f := &follower{path: files[len(files)-1], file: current, offset: offset, asm: &a}
	current = nil
	defer f.close()
	return f.run(ctx, opts, w)
}

func since(lines []Record, t time.Time) []Record {
	if t.IsZero() {
		return lines
	}
	for i, l := range lines {
		if !l.Time.Before(t) {
			return lines[i:]
		}
	}
	return nil
}

func writeLine(w io.Writer, l Record, timestamps, newline bool) error {
	b := make([]byte, 0, len(l.Text)+40)
	if timestamps {
		b = l.Time.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, ' ')
	}
	b = append(b, l.Text...)
	if newline {
		b = append(b, '\n')
	}
	_, err := w.Write(b)
	return err
}
