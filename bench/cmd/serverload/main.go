package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"time"

	"github.com/tugcluster/tug/bench/internal/tugproc"
)

// stopGrace is how long a server may take to exit after SIGTERM.
const stopGrace = 30 * time.Second

type config struct {
	bin       string
	readyRuns int
	objects   int
	workers   int
	settle    time.Duration
	timeout   time.Duration
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "serverload:", err)
		os.Exit(1)
	}
}

func run() error {
	bin := os.Getenv("TUG_BIN")
	if bin == "" {
		bin = "bin/tug"
	}
	var c config
	flag.StringVar(&c.bin, "bin", bin, "tug binary to run (default $TUG_BIN or bin/tug)")
	flag.IntVar(&c.readyRuns, "ready-runs", 5, "starts to time, each with a fresh and with an existing data directory")
	flag.IntVar(&c.objects, "objects", 100000, "ConfigMaps to store before the loaded memory sample")
	flag.IntVar(&c.workers, "workers", 16, "concurrent clients creating the objects")
	flag.DurationVar(&c.settle, "settle", 5*time.Second, "idle time before each memory sample")
	flag.DurationVar(&c.timeout, "timeout", 20*time.Minute, "bound on the whole run")
	flag.Parse()
	if _, err := os.Stat(c.bin); err != nil {
		return fmt.Errorf("tug binary: %w (run `make build` or set TUG_BIN)", err)
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, c.timeout)
	defer cancelTimeout()
	root, err := os.MkdirTemp("", "tug-serverload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)

	fmt.Printf("binary %s, %d CPUs, %s\n\n", c.bin, runtime.NumCPU(), time.Now().UTC().Format(time.RFC3339))
	if err := measureReady(ctx, c, root); err != nil {
		return err
	}
	return measureMemory(ctx, c, filepath.Join(root, "load"))
}

// measureReady times readyRuns starts on fresh data directories, then as
// many restarts on the first one (which then holds a CA, certificates and
// an etcd member).
func measureReady(ctx context.Context, c config, root string) error {
	var fresh, existing []time.Duration
	first := filepath.Join(root, "ready-0")
	for i := range c.readyRuns {
		dir := filepath.Join(root, fmt.Sprintf("ready-%d", i))
		d, err := timeStart(ctx, c.bin, dir)
		if err != nil {
			return err
		}
		fresh = append(fresh, d)
	}
	for range c.readyRuns {
		d, err := timeStart(ctx, c.bin, first)
		if err != nil {
			return err
		}
		existing = append(existing, d)
	}
	fmt.Println("## start to /readyz ok")
	fmt.Println("| data dir | runs | min ms | median ms | max ms | each run ms |")
	fmt.Println("|---|---|---|---|---|---|")
	printDurations("fresh", fresh)
	printDurations("existing", existing)
	fmt.Println()
	return nil
}

// timeStart starts a server on dir, waits for /readyz and stops it.
func timeStart(ctx context.Context, bin, dir string) (time.Duration, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, err
	}
	s, err := tugproc.StartServer(bin, dir)
	if err != nil {
		return 0, err
	}
	d, err := s.WaitReady(ctx)
	if serr := s.Stop(stopGrace); serr != nil && err == nil {
		err = serr
	}
	return d, err
}

func printDurations(label string, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	sorted := slices.Sorted(slices.Values(ds))
	each := ""
	for i, d := range ds {
		if i > 0 {
			each += ", "
		}
		each += fmt.Sprintf("%.0f", ms(d))
	}
	fmt.Printf("| %s | %d | %.0f | %.0f | %.0f | %s |\n", label, len(ds), ms(sorted[0]), ms(sorted[len(sorted)/2]), ms(sorted[len(sorted)-1]), each)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
