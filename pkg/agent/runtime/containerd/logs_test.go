package containerd

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

func TestCRILogFormat(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	if got := string(formatCRILine(ts, "stdout", false, []byte("hello world"))); got != "2026-01-02T03:04:05.0000006Z stdout F hello world\n" {
		t.Errorf("full line = %q", got)
	}
	if got := string(formatCRILine(ts, "stderr", true, []byte("part"))); got != "2026-01-02T03:04:05.0000006Z stderr P part\n" {
		t.Errorf("partial line = %q", got)
	}
	rec, err := parseCRILine([]byte("2026-01-02T03:04:05.0000006Z stderr P a b c"))
	if err != nil || !rec.t.Equal(ts) || rec.stream != "stderr" || !rec.partial || string(rec.text) != "a b c" {
		t.Errorf("parse = %+v, %v", rec, err)
	}
}

func TestCRILogWriterSplitsAndRotates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	w, err := newCRILogWriter(path, 300, 2)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", maxLogLine+10)
	w.copyStream("stdout", strings.NewReader(long+"\nshort\nno newline"))
	b, _ := os.ReadFile(path + ".1")
	all, _ := os.ReadFile(path)
	all = append(b, all...)
	var tags []string
	for _, l := range strings.Split(strings.TrimSpace(string(all)), "\n") {
		rec, err := parseCRILine([]byte(l))
		if err != nil {
			t.Fatal(err)
		}
		tags = append(tags, fmt.Sprintf("%s:%d", map[bool]string{true: "P", false: "F"}[rec.partial], len(rec.text)))
	}
	// The long line went into the rotated file; three files would exceed keep=2+1.
	if strings.Join(tags, " ") != fmt.Sprintf("P:%d F:10 F:5 F:10", maxLogLine) {
		t.Errorf("records = %v", tags)
	}
	for i := 0; i < 20; i++ {
		w.copyStream("stderr", strings.NewReader(strings.Repeat("y", 200)+"\n"))
	}
	w.Close()
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Errorf("more rotated files than kept: %v", err)
	}
	if st, err := os.Stat(path); err != nil || st.Size() > 300 {
		t.Errorf("current file %v %v, want ≤ 300 bytes", st, err)
	}

	var out bytes.Buffer
	lw := &logLineWriter{w: &out, opts: runtime.LogOptions{Timestamps: true}}
	for _, l := range []string{"2026-01-02T03:04:05Z stdout P ab", "2026-01-02T03:04:06Z stdout F cd", "garbage"} {
		if err := lw.line([]byte(l + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	if out.String() != "2026-01-02T03:04:05Z abcd\n" {
		t.Errorf("joined output = %q", out.String())
	}
	lines := [][]byte{[]byte("2026-01-02T03:04:05Z stdout F a\n"), []byte("2026-01-02T03:04:05Z stdout P b\n"), []byte("2026-01-02T03:04:05Z stdout F c\n")}
	if got := tailComplete(lines, 1); len(got) != 2 {
		t.Errorf("tail 1 kept %d records, want the partial and its end", len(got))
	}
}

func TestPodFiles(t *testing.T) {
	pod := specPod(corev1.Container{Name: "c"})
	pod.Spec.Hostname, pod.Spec.Subdomain = "h", "sub"
	hosts := hostsContent(pod, "10.42.0.5", "cluster.local")
	if !strings.Contains(hosts, "10.42.0.5\th.sub.ns.svc.cluster.local\th\n") {
		t.Errorf("hosts = %q", hosts)
	}
	resolv := resolvContent(pod, DNSConfig{Servers: []string{"10.43.0.10"}, Domain: "cluster.local"}, "nameserver 1.1.1.1\n")
	want := "nameserver 10.43.0.10\nsearch ns.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"
	if resolv != want {
		t.Errorf("resolv.conf = %q, want %q", resolv, want)
	}
	if got := resolvContent(pod, DNSConfig{Domain: "cluster.local"}, "nameserver 1.1.1.1\nsearch lan\n"); got != "nameserver 1.1.1.1\nsearch lan\n" {
		t.Errorf("without cluster DNS: %q, want the host's", got)
	}
}
