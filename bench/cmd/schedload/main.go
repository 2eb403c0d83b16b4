package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type config struct {
	bin             string
	nodes           []int
	pods            int
	workers         int
	readyTimeout    time.Duration
	scenarioTimeout time.Duration
	timeout         time.Duration
	scenarios       string
	profileDir      string
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "schedload:", err)
		os.Exit(1)
	}
}

func run() error {
	bin := os.Getenv("TUG_BIN")
	if bin == "" {
		bin = "bin/tug"
	}
	var c config
	var nodes string
	flag.StringVar(&c.bin, "bin", bin, "tug binary to run (default $TUG_BIN or bin/tug)")
	flag.StringVar(&nodes, "nodes", "500,5000", "comma-separated simulated node counts, one cluster each")
	flag.IntVar(&c.pods, "pods", 10000, "pods per scenario")
	flag.IntVar(&c.workers, "workers", 16, "concurrent clients creating pods or ReplicaSets")
	flag.StringVar(&c.scenarios, "scenarios", "pods-plain,pods-anti,rs-plain,rs-anti", "scenarios to run, in order")
	flag.DurationVar(&c.readyTimeout, "ready-timeout", 10*time.Minute, "bound on waiting for the nodes to be Ready")
	flag.DurationVar(&c.scenarioTimeout, "scenario-timeout", 10*time.Minute, "bound on one scenario")
	flag.DurationVar(&c.timeout, "timeout", 60*time.Minute, "bound on the whole run")
	flag.StringVar(&c.profileDir, "profile", "", "directory for a 15 s CPU profile of the server taken at the start of every scenario (starts the server with --profiling)")
	flag.Parse()
	for _, s := range strings.Split(nodes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("-nodes: %q is not a positive count", s)
		}
		c.nodes = append(c.nodes, n)
	}
	for _, s := range strings.Split(c.scenarios, ",") {
		if _, err := parseScenario(s); err != nil {
			return err
		}
	}
	if _, err := os.Stat(c.bin); err != nil {
		return fmt.Errorf("tug binary: %w (run `make build` or set TUG_BIN)", err)
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, c.timeout)
	defer cancelTimeout()

	fmt.Printf("binary %s, %d CPUs, %s\n\n", c.bin, runtime.NumCPU(), time.Now().UTC().Format(time.RFC3339))
	for _, n := range c.nodes {
		if err := runCluster(ctx, c, n); err != nil {
			return fmt.Errorf("%d nodes: %w", n, err)
		}
	}
	return nil
}
