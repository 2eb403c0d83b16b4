package cluster

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLocalAgentRunsAfterReadyAndStopsWithTheServer(t *testing.T) {
	dir := t.TempDir()
	got := make(chan LocalAgentConfig, 1)
	stopped := make(chan struct{})
	opts := testOptions(t, dir)
	opts.LocalAgent = func(ctx context.Context, cfg LocalAgentConfig) error {
		got <- cfg
		<-ctx.Done()
		close(stopped)
		return nil
	}
	c, stop := start(t, opts)
	var cfg LocalAgentConfig
	select {
	case cfg = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("the local agent was not started")
	}
	if cfg.URL != c.URL() || cfg.Token != c.Token() || cfg.CAFile != filepath.Join(dir, "pki", "ca.crt") ||
		cfg.DataDir != filepath.Join(dir, "agent") || cfg.ContainerdAddress != filepath.Join(dir, "containerd", "containerd.sock") ||
		cfg.ClusterCIDR != DefaultPodCIDR || cfg.ServiceCIDR != DefaultServiceCIDR || cfg.NodeIP.IsValid() {
		t.Errorf("local agent config = %+v", cfg)
	}
	stop()
	select {
	case <-stopped:
	default:
		t.Error("Run returned before the local agent stopped")
	}
}

func TestFailingLocalAgentStopsTheServer(t *testing.T) {
	opts := testOptions(t, t.TempDir())
	opts.LocalAgent = func(context.Context, LocalAgentConfig) error { return errors.New("no containerd") }
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = c.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "no containerd") || !strings.Contains(err.Error(), "--disable-agent") {
		t.Errorf("Run = %v, want the agent's error with a hint", err)
	}
}
