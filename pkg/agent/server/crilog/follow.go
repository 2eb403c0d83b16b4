package crilog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// follower tails the current log file: it polls for appended data and,
// when the path names a new file (rotation), drains the old one and
// continues at the start of the new one.
type follower struct {
	path   string
	file   *os.File // nil until the file exists
	offset int64
	buf    []byte // bytes after the last newline
	asm    *assembler
}

func (f *follower) close() {
	if f.file != nil {
		f.file.Close()
	}
}

func (f *follower) run(ctx context.Context, opts runtime.LogOptions, w io.Writer) error {
	tick := time.NewTicker(FollowInterval)
	defer tick.Stop()
	for {
		if err := f.poll(opts, w); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (f *follower) poll(opts runtime.LogOptions, w io.Writer) error {
	if f.file == nil {
		file, err := os.Open(f.path)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("follow log: %w", err)
		}
		f.file, f.offset, f.buf = file, 0, nil
	}
	if err := f.drain(opts, w); err != nil {
		return err
	}
	cur, err := f.file.Stat()
	if err != nil {
		return fmt.Errorf("follow log: %w", err)
	}
	byPath, err := os.Stat(f.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil // rotated away; the new file appears shortly
	case err != nil:
		return fmt.Errorf("follow log: %w", err)
	case !os.SameFile(cur, byPath):
		f.file.Close()
		f.file = nil
		return f.poll(opts, w)
	case byPath.Size() < f.offset:
		// Truncated in place: start over.
		f.offset, f.buf = 0, nil
		return f.drain(opts, w)
	}
	return nil
}

// drain writes the complete lines appended since the last call.
func (f *follower) drain(opts runtime.LogOptions, w io.Writer) error {
	data := make([]byte, 32<<10)
	for {
		n, err := f.file.ReadAt(data, f.offset)
		if n > 0 {
			f.offset += int64(n)
			f.buf = append(f.buf, data[:n]...)
			lines, consumed := f.asm.scan(f.buf)
			f.buf = append(f.buf[:0], f.buf[consumed:]...)
			for _, l := range since(lines, opts.Since) {
				if werr := writeLine(w, l, opts.Timestamps, true); werr != nil {
					return werr
				}
			}
		}
		if errors.Is(err, io.EOF) || (err == nil && n == 0) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("follow log: %w", err)
		}
	}
}
