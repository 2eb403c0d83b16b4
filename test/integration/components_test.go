package integration

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"

	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/pkg/controller"
	"github.com/tugcluster/tug/pkg/controller/manager"
)

// components holds what startComponents started, for tests that look at it.
var components struct {
	manager *manager.Manager
}

// startComponents starts the control loops that run next to the API server
// in `tug server` (controllers, scheduler), talking to it through cfg. The
// returned function stops them and waits until they are gone.
func startComponents(ctx context.Context, cfg *rest.Config) (stop func(), err error) {
	ctx, cancel := context.WithCancel(ctx)
	klog.SetSlogLogger(componentLogger())
	var wg sync.WaitGroup
	start := func(name string, run func(context.Context) error) {
		wg.Go(func() {
			if err := run(ctx); err != nil {
				fmt.Printf("%s: %v\n", name, err)
			}
		})
	}
	m, err := manager.New(cfg, controller.Options{Logger: componentLogger(), RootCA: []byte(testRootCA)}, manager.Controllers()...)
	if err != nil {
		cancel()
		return nil, err
	}
	components.manager = m
	start("controller manager", m.Run)
	start("scheduler", schedulerRunner(cfg))

	return func() { cancel(); wg.Wait() }, nil
}

// componentLogger discards the components' logs unless TUG_TEST_LOG is set.
func componentLogger() *slog.Logger {
	var w io.Writer = io.Discard
	if os.Getenv("TUG_TEST_LOG") != "" {
		w = os.Stderr
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
