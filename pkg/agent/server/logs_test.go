package server_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/pkg/agent/server/servertest"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// logPod runs pod ns1/logs whose container "app" has written four lines,
// the third in two partial records.
func logPod(t *testing.T, e *env) string {
	t.Helper()
	id := e.runPod(t, "ns1", "logs", "app")["app"]
	if err := e.rt.AppendLog(id,
		servertest.Record(t0, "stdout", false, "one"),
		servertest.Record(t0.Add(time.Second), "stderr", false, "two"),
		servertest.Record(t0.Add(2*time.Second), "stdout", true, "thr"),
		servertest.Record(t0.Add(2*time.Second), "stdout", false, "ee"),
		servertest.Record(t0.Add(3*time.Second), "stdout", false, "four"),
	); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestLogs(t *testing.T) {
	e := start(t)
	logPod(t, e)
	cases := []struct{ query, want string }{
		{"", "one\ntwo\nthree\nfour\n"},
		{"?tailLines=2", "three\nfour\n"},
		{"?tailLines=0", ""},
		{"?sinceTime=" + t0.Add(time.Second).Format(time.RFC3339), "two\nthree\nfour\n"},
		{"?timestamps=true&tailLines=1", "2026-03-01T10:00:03Z four\n"},
		{"?limitBytes=6", "one\ntw"},
	}
	for _, c := range cases {
		code, body := e.get(t, "/containerLogs/ns1/logs/app"+c.query, &e.pki.KubeletClient)
		if code != http.StatusOK || body != c.want {
			t.Errorf("logs%s = %d %q, want %q", c.query, code, body, c.want)
		}
	}
	if code, body := e.get(t, "/containerLogs/ns1/logs/app?sinceSeconds=60&sinceTime=2026-03-01T10:00:00Z", &e.pki.KubeletClient); code != http.StatusBadRequest {
		t.Errorf("both since forms: %d %s, want 400", code, body)
	}
	if code, _ := e.get(t, "/containerLogs/ns1/missing/app", &e.pki.KubeletClient); code != http.StatusNotFound {
		t.Errorf("missing pod: %d, want 404", code)
	}
}

func TestLogsOfThePreviousContainer(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	first := e.runPod(t, "ns1", "restarts", "app")["app"]
	if err := e.rt.AppendLog(first, servertest.Record(t0, "stdout", false, "first run")); err != nil {
		t.Fatal(err)
	}
	if code, body := e.get(t, "/containerLogs/ns1/restarts/app?previous=true", &e.pki.KubeletClient); code != http.StatusBadRequest {
		t.Errorf("previous before a restart: %d %s, want 400", code, body)
	}
	if err := e.rt.StopContainer(ctx, first, 0); err != nil {
		t.Fatal(err)
	}
	st, err := e.rt.ContainerStatus(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns1", Name: "restarts"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "busybox"}}}}
	second := e.startContainer(t, st.SandboxID, pod, 0, 1)
	if err := e.rt.AppendLog(second, servertest.Record(t0.Add(time.Minute), "stdout", false, "second run")); err != nil {
		t.Fatal(err)
	}
	for query, want := range map[string]string{"": "second run\n", "?previous=true": "first run\n"} {
		if code, body := e.get(t, "/containerLogs/ns1/restarts/app"+query, &e.pki.KubeletClient); code != http.StatusOK || body != want {
			t.Errorf("logs%s = %d %q, want %q", query, code, body, want)
		}
	}
}

func TestFollowLogs(t *testing.T) {
	e := start(t)
	id := logPod(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.base+"/containerLogs/ns1/logs/app?follow=true&tailLines=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := clientFor(e).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewReader(resp.Body)
	want := func(line string) {
		t.Helper()
		got, err := lines.ReadString('\n')
		if err != nil || got != line {
			t.Fatalf("read %q (%v), want %q", got, err, line)
		}
	}
	want("four\n")
	if err := e.rt.AppendLog(id, servertest.Record(time.Now(), "stdout", true, "fi"), servertest.Record(time.Now(), "stdout", false, "ve")); err != nil {
		t.Fatal(err)
	}
	want("five\n")
	if err := e.rt.AppendLog(id, servertest.Record(time.Now(), "stderr", false, "six")); err != nil {
		t.Fatal(err)
	}
	want("six\n")
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("content type %q", resp.Header.Get("Content-Type"))
	}
}
