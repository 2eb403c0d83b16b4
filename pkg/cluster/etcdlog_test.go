package cluster

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"go.uber.org/zap"
)

func TestEtcdLogLevels(t *testing.T) {
	var buf bytes.Buffer
	l := newEtcdLog(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	lg := l.logger()
	lg.Info("routine chatter")
	lg.Warn("simple token is not cryptographically signed")
	lg.Warn("apply request took too long", zap.Duration("took", 0))
	l.shuttingDown()
	lg.Error("setting up serving from embedded etcd failed.")

	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 {
		t.Fatalf("logged %d lines, want only the real warning:\n%s", len(lines), out)
	}
	for _, want := range []string{"level=WARN", `msg="apply request took too long"`, "component=etcd", "took=0s"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("line %q lacks %s", lines[0], want)
		}
	}
}
