package containerd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// Runtime is runtime.Runtime on containerd. It also implements
// runtime.Execer, StreamExecer, Attacher, LogReader, StatsProvider,
// ExitNotifier and ForcePuller.
type Runtime struct {
	cfg         Config
	client      *containerd.Client
	daemon      *daemon
	snapshotter string
	log         *slog.Logger

	cancel   context.CancelFunc
	events   sync.WaitGroup
	closeMu  sync.Mutex
	closed   bool
	mu       sync.Mutex
	notify   []func(sandboxID, containerID string)
	copiers  map[string]*logCopier // container ID → its output copier
	cpuLast  map[string]cpuSample
	sandboxL sync.Mutex // serializes sandbox record files
	// finishing holds a *sync.Mutex per container being finished.
	finishing sync.Map
}

var (
	_ runtime.Runtime       = (*Runtime)(nil)
	_ runtime.Execer        = (*Runtime)(nil)
	_ runtime.LogReader     = (*Runtime)(nil)
	_ runtime.StatsProvider = (*Runtime)(nil)
	_ runtime.ExitNotifier  = (*Runtime)(nil)
	_ runtime.StreamExecer  = (*Runtime)(nil)
	_ runtime.ForcePuller   = (*Runtime)(nil)
	_ runtime.Attacher      = (*Runtime)(nil)
)

// Start connects to containerd at cfg.Address, starting a private daemon
// there when none answers (unless cfg.NoDaemon), and begins watching task
// events. Close releases everything Start acquired.
func Start(ctx context.Context, cfg Config) (*Runtime, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("containerd runtime: DataDir is required")
	}
	cfg.setDefaults()
	// A malformed registries.yaml stops the agent at start, naming the file
	// and line, rather than failing every pull later.
	if _, err := LoadRegistries(filepath.Join(cfg.DataDir, "registries.yaml")); err != nil {
		return nil, fmt.Errorf("containerd runtime: %w", err)
	}
	for _, d := range []string{cfg.DataDir, cfg.RuncRoot, filepath.Join(cfg.DataDir, "sandboxes"), filepath.Join(cfg.DataDir, "fifo"), filepath.Join(cfg.DataDir, "logs")} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return nil, fmt.Errorf("containerd runtime: %w", err)
		}
	}
	r := &Runtime{cfg: cfg, log: slog.Default().With("component", "runtime"), copiers: map[string]*logCopier{}, cpuLast: map[string]cpuSample{}}
	if !serving(ctx, cfg.Address) {
		if cfg.NoDaemon {
			return nil, fmt.Errorf("containerd runtime: nothing answers on %s", cfg.Address)
		}
		d, err := startDaemon(ctx, cfg.ContainerdBinary, filepath.Join(cfg.DataDir, "containerd"), cfg.Address, cfg.StartTimeout)
		if err != nil {
			return nil, fmt.Errorf("containerd runtime: %w", err)
		}
		r.daemon = d
	}
	c, err := containerd.New(cfg.Address, containerd.WithDefaultNamespace(cfg.Namespace), containerd.WithDefaultRuntime("io.containerd.runc.v2"))
	if err != nil {
		_ = r.daemon.stop()
		return nil, fmt.Errorf("containerd runtime: connect %s: %w", cfg.Address, err)
	}
	r.client = c
	if r.snapshotter, err = chooseSnapshotter(ctx, c, cfg.Snapshotter); err != nil {
		r.Close()
		return nil, fmt.Errorf("containerd runtime: %w", err)
	}
	evctx, cancel := context.WithCancel(namespaces.WithNamespace(context.Background(), cfg.Namespace))
	r.cancel = cancel
	ready := make(chan struct{})
	r.events.Add(1)
	go r.watchEvents(evctx, ready)
	<-ready
	if err := r.adopt(r.ctx(ctx)); err != nil {
		r.Close()
		return nil, fmt.Errorf("containerd runtime: adopt running containers: %w", err)
	}
	return r, nil
}

// Client is the containerd client, for callers that import images.
func (r *Runtime) Client() *containerd.Client { return r.client }

// Snapshotter names the snapshotter images are unpacked with.
func (r *Runtime) Snapshotter() string { return r.snapshotter }

// Close stops watching events, disconnects and stops the daemon if this
// runtime started it. Containers keep running under their shims. Close is
// idempotent.
func (r *Runtime) Close() error {
	r.closeMu.Lock()
	defer r.closeMu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	if r.cancel != nil {
		r.cancel()
		r.events.Wait()
	}
	r.mu.Lock()
	for id, lc := range r.copiers {
		lc.abandon()
		delete(r.copiers, id)
	}
	r.mu.Unlock()
	var errs []error
	if r.client != nil {
		errs = append(errs, r.client.Close())
	}
	errs = append(errs, r.daemon.stop())
	return errors.Join(errs...)
}

// ctx puts the runtime's namespace on ctx.
func (r *Runtime) ctx(ctx context.Context) context.Context {
	return namespaces.WithNamespace(ctx, r.cfg.Namespace)
}

// Version reports containerd's version.
func (r *Runtime) Version(ctx context.Context) (runtime.Version, error) {
	v, err := r.client.Version(r.ctx(ctx))
	if err != nil {
		return runtime.Version{}, fmt.Errorf("containerd version: %w", err)
	}
	return runtime.Version{RuntimeName: "containerd", RuntimeVersion: v.Version}, nil
}

// NotifyExits registers fn for containers that exit from now on.
func (r *Runtime) NotifyExits(fn func(sandboxID, containerID string)) {
	r.mu.Lock()
	r.notify = append(r.notify, fn)
	r.mu.Unlock()
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func timeLabel(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTimeLabel(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}
