package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tugcluster/tug/bench/internal/benchclient"
	"github.com/tugcluster/tug/bench/internal/latency"
	"github.com/tugcluster/tug/bench/internal/tugproc"
)

const loadNamespace = "load"

type memRow struct {
	state string
	mem   tugproc.Memory
}

// measureMemory samples the server's memory idle, after storing
// c.objects ConfigMaps, after listing them all, and after a restart with
// them stored.
func measureMemory(ctx context.Context, c config, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var rows []memRow
	sample := func(s *tugproc.Server, state string) error {
		if err := sleep(ctx, c.settle); err != nil {
			return err
		}
		m, err := s.Memory()
		if err != nil {
			return err
		}
		rows = append(rows, memRow{state, m})
		return nil
	}

	s, err := tugproc.StartServer(c.bin, dir)
	if err != nil {
		return err
	}
	defer s.Stop(stopGrace)
	if _, err := s.WaitReady(ctx); err != nil {
		return err
	}
	if err := sample(s, "idle, fresh data dir"); err != nil {
		return err
	}
	if err := load(ctx, c, dir); err != nil {
		return err
	}
	if err := sample(s, fmt.Sprintf("%d ConfigMaps stored", c.objects)); err != nil {
		return err
	}
	if err := listAll(ctx, dir, c.objects); err != nil {
		return err
	}
	if err := sample(s, "after listing them all (pages of 500)"); err != nil {
		return err
	}
	if err := s.Stop(stopGrace); err != nil {
		return err
	}
	dbSize, err := backendSize(filepath.Join(dir, "etcd"))
	if err != nil {
		return err
	}

	s, err = tugproc.StartServer(c.bin, dir)
	if err != nil {
		return err
	}
	defer s.Stop(stopGrace)
	ready, err := s.WaitReady(ctx)
	if err != nil {
		return err
	}
	if err := sample(s, fmt.Sprintf("restarted with %d stored", c.objects)); err != nil {
		return err
	}
	if err := s.Stop(stopGrace); err != nil {
		return err
	}
	fmt.Printf("restart with %d ConfigMaps stored: /readyz ok after %.0f ms; etcd backend file %.1f MiB\n\n", c.objects, ms(ready), float64(dbSize)/(1<<20))

	fmt.Printf("## server memory (after %s idle)\n", c.settle)
	fmt.Println("| state | VmRSS MiB | RssAnon MiB | RssFile MiB | VmHWM (peak) MiB |")
	fmt.Println("|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Printf("| %s | %.1f | %.1f | %.1f | %.1f |\n", r.state, tugproc.MiB(r.mem.RSS), tugproc.MiB(r.mem.Anon), tugproc.MiB(r.mem.File), tugproc.MiB(r.mem.Peak))
	}
	return nil
}

// load creates c.objects small ConfigMaps with c.workers clients and
// prints the create rate and latency.
func load(ctx context.Context, c config, dir string) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(dir, "admin.kubeconfig"))
	if err != nil {
		return fmt.Errorf("admin kubeconfig: %w", err)
	}
	cs, err := benchclient.NewN(ctx, cfg, c.workers)
	if err != nil {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: loadNamespace}}
	if _, err := cs[0].CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create namespace: %w", err)
	}
	res, err := latency.Run(ctx, c.objects, c.workers, func(ctx context.Context, w, i int) error {
		_, err := cs[w].CoreV1().ConfigMaps(loadNamespace).Create(ctx, configMap(i), metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("store %d ConfigMaps: %w", c.objects, err)
	}
	fmt.Printf("## loading %d ConfigMaps over HTTPS (%d clients, client certificates)\n", c.objects, c.workers)
	fmt.Printf("%.0f creates/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms, total %.1f s\n\n",
		res.PerSecond(), latency.Ms(res.Latency.Quantile(0.5)), latency.Ms(res.Latency.Quantile(0.99)),
		latency.Ms(res.Latency.Max()), res.Elapsed.Seconds())
	return nil
}

// listAll lists the load namespace in pages of 500, as kubectl does, and
// checks the count.
func listAll(ctx context.Context, dir string, want int) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(dir, "admin.kubeconfig"))
	if err != nil {
		return fmt.Errorf("admin kubeconfig: %w", err)
	}
	cs, err := benchclient.New(ctx, cfg)
	if err != nil {
		return err
	}
	start := time.Now()
	got, cont := 0, ""
	for {
		l, err := cs.CoreV1().ConfigMaps(loadNamespace).List(ctx, metav1.ListOptions{Limit: 500, Continue: cont})
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
		got += len(l.Items)
		if cont = l.Continue; cont == "" {
			break
		}
	}
	if got != want {
		return fmt.Errorf("listed %d ConfigMaps, want %d", got, want)
	}
	fmt.Printf("listing all %d in pages of 500: %.0f ms\n\n", got, ms(time.Since(start)))
	return nil
}

// configMap is a small object (about 250 bytes as JSON).
func configMap(i int) *corev1.ConfigMap {
	name := "cm-" + strconv.Itoa(i)
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: loadNamespace, Labels: map[string]string{"app": "bench"}},
		Data:       map[string]string{"mode": "benchmark", "level": "3", "endpoint": "http://bench.example:8080/" + name},
	}
}

// backendSize is the size of etcd's bbolt backend file ("db") under dir;
// the write-ahead log is left out because etcd preallocates its segments.
func backendSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if info, ierr := d.Info(); ierr == nil && !d.IsDir() && d.Name() == "db" {
			n += info.Size()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("size of %s: %w", dir, err)
	}
	return n, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
