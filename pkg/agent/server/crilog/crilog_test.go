package crilog_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tugcluster/tug/internal/syncbuf"
	"github.com/tugcluster/tug/pkg/agent/runtime"
	"github.com/tugcluster/tug/pkg/agent/server/crilog"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func rec(sec int, stream, tag, text string) string {
	return t0.Add(time.Duration(sec)*time.Second).Format(time.RFC3339Nano) + " " + stream + " " + tag + " " + text + "\n"
}

func TestReadJoinsPartialLinesPerStreamAcrossRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.log")
	write(t, path+".1", rec(0, "stdout", "P", "a-")+rec(0, "stderr", "F", "err")+"garbage\n")
	write(t, path, rec(1, "stdout", "F", "b")+rec(2, "stdout", "F", "c")+rec(3, "stdout", "P", "unfinished"))
	var out bytes.Buffer
	if err := crilog.Read(context.Background(), crilog.Files(path, 2), runtime.LogOptions{TailLines: -1}, &out); err != nil {
		t.Fatal(err)
	}
	if want := "err\na-b\nc\nunfinished"; out.String() != want {
		t.Errorf("read %q, want %q", out.String(), want)
	}
}

func TestFollowAcrossRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	write(t, path, rec(0, "stdout", "F", "one"))
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncbuf.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- crilog.Read(ctx, crilog.Files(path, 1), runtime.LogOptions{TailLines: -1, Follow: true}, out)
	}()
	waitFor(t, out, "one\n")
	appendTo(t, path, rec(1, "stdout", "F", "two"))
	waitFor(t, out, "one\ntwo\n")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	write(t, path, rec(2, "stdout", "F", "three"))
	waitFor(t, out, "one\ntwo\nthree\n")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendTo(t *testing.T, path, data string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, b *syncbuf.Buffer, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for b.String() != want {
		if time.Now().After(deadline) {
			t.Fatalf("followed %q, want %q", b.String(), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
