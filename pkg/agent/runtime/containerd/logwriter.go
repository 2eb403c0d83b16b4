package containerd

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// maxLogLine splits longer lines into partial ("P") records, as the CRI
// format does.
const maxLogLine = 16 << 10

// criLogWriter appends CRI-format records to a file
// ("<RFC3339Nano> <stream> <F|P> <text>\n") and rotates it by size:
// path → path.1 → … → path.<keep>.
type criLogWriter struct {
	path     string
	maxBytes int64
	keep     int
	now      func() time.Time

	mu   sync.Mutex
	f    *os.File
	size int64
}

func newCRILogWriter(path string, maxBytes int64, keep int) (*criLogWriter, error) {
	w := &criLogWriter{path: path, maxBytes: maxBytes, keep: keep, now: time.Now}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *criLogWriter) open() error {
	f, err := os.OpenFile(w.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	w.f, w.size = f, st.Size()
	return nil
}

// formatCRILine is one record; partial marks a line cut at maxLogLine.
func formatCRILine(t time.Time, stream string, partial bool, text []byte) []byte {
	tag := "F"
	if partial {
		tag = "P"
	}
	b := make([]byte, 0, len(text)+64)
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, ' ')
	b = append(b, stream...)
	b = append(b, ' ')
	b = append(b, tag...)
	b = append(b, ' ')
	b = append(b, text...)
	return append(b, '\n')
}

func (w *criLogWriter) writeLine(stream string, partial bool, text []byte) error {
	rec := formatCRILine(w.now(), stream, partial, text)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return os.ErrClosed
	}
	if w.size > 0 && w.size+int64(len(rec)) > w.maxBytes {
		if err := w.rotate(); err != nil {
			return err
		}
	}
	n, err := w.f.Write(rec)
	w.size += int64(n)
	return err
}

func (w *criLogWriter) rotate() error {
	w.f.Close()
	for i := w.keep; i >= 1; i-- {
		src := w.path
		if i > 1 {
			src = fmt.Sprintf("%s.%d", w.path, i-1)
		}
		if err := os.Rename(src, fmt.Sprintf("%s.%d", w.path, i)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("rotate log: %w", err)
		}
	}
	if w.keep < 1 {
		_ = os.Remove(w.path)
	}
	return w.open()
}

// copyStream turns r's output into records of the named stream until EOF.
func (w *criLogWriter) copyStream(stream string, r io.Reader) {
	br := bufio.NewReaderSize(r, maxLogLine)
	for {
		line, err := br.ReadSlice('\n')
		switch {
		case err == nil:
			_ = w.writeLine(stream, false, bytes.TrimSuffix(line, []byte("\n")))
		case err == bufio.ErrBufferFull:
			_ = w.writeLine(stream, true, line)
		default:
			if len(line) > 0 {
				_ = w.writeLine(stream, false, line)
			}
			return
		}
	}
}

func (w *criLogWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}
