package apibench

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/tugcluster/tug/bench/internal/latency"
)

// watchWriters is how many clients write while BenchmarkWatch measures
// delivery; the number of watchers is what varies.
const watchWriters = 4

// BenchmarkWatch measures event delivery: b.N ConfigMaps are created by
// four writers while 1, 16 or 64 clients watch the namespace. Latency is
// from just before a create is sent to its ADDED event arriving at a
// watcher, over every (event, watcher) pair; events/s counts deliveries to
// all watchers.
func BenchmarkWatch(b *testing.B) {
	for _, n := range clientCounts {
		b.Run("watchers="+strconv.Itoa(n), func(b *testing.B) {
			watchers := clients(b, n)
			writers := clients(b, watchWriters)
			benchmarkWatch(b, watchers, writers)
		})
	}
}

func benchmarkWatch(b *testing.B, watchers, writers []*kubernetes.Clientset) {
	ns := uniqueNamespace(b, writers[0], "watch")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	sent := make([]atomic.Int64, b.N) // unix nanos when create i was sent
	delivery := &latency.Sample{}
	var (
		pending sync.WaitGroup // one per watcher: done after b.N events
		warm    sync.WaitGroup // one per watcher: done after the warm-up event
		failed  atomic.Value
	)
	for _, cs := range watchers {
		w, err := cs.CoreV1().ConfigMaps(ns).Watch(ctx, metav1.ListOptions{})
		if err != nil {
			b.Fatalf("watch: %v", err)
		}
		defer w.Stop()
		pending.Add(1)
		warm.Add(1)
		go func() {
			defer pending.Done()
			var once sync.Once
			warmed := func() { once.Do(warm.Done) }
			defer warmed() // so a failed watch does not block the warm-up wait
			if err := consume(w, b.N, sent, delivery, warmed); err != nil {
				failed.Store(err)
				cancel()
			}
		}()
	}
	// The warm-up object shows every watch is established before timing.
	if _, err := writers[0].CoreV1().ConfigMaps(ns).Create(ctx, configMap(ns, "warmup"), metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	warm.Wait()

	b.ResetTimer()
	start := time.Now()
	_, err := latency.Run(ctx, b.N, len(writers), func(ctx context.Context, w, i int) error {
		sent[i].Store(time.Now().UnixNano())
		_, err := writers[w].CoreV1().ConfigMaps(ns).Create(ctx, configMap(ns, "cm-"+strconv.Itoa(i)), metav1.CreateOptions{})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	pending.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N*len(watchers))/elapsed.Seconds(), "events/s")
	b.ReportMetric(latency.Ms(delivery.Quantile(0.50)), "p50-ms")
	b.ReportMetric(latency.Ms(delivery.Quantile(0.99)), "p99-ms")
}

// consume reads a watch until it has seen ADDED for cm-0..cm-(n-1),
// recording each delivery's latency. warmed is called once the warm-up
// object arrives.
func consume(w watch.Interface, n int, sent []atomic.Int64, delivery *latency.Sample, warmed func()) error {
	seen := 0
	warmedUp := false
	for seen < n {
		ev, ok := <-w.ResultChan()
		if !ok {
			return fmt.Errorf("watch closed after %d of %d events", seen, n)
		}
		now := time.Now().UnixNano()
		if ev.Type == watch.Error {
			return fmt.Errorf("watch error: %v", ev.Object)
		}
		cm, isCM := ev.Object.(*corev1.ConfigMap)
		if ev.Type != watch.Added || !isCM {
			continue
		}
		if cm.Name == "warmup" {
			if !warmedUp {
				warmedUp = true
				warmed()
			}
			continue
		}
		i, err := strconv.Atoi(strings.TrimPrefix(cm.Name, "cm-"))
		if err != nil || i < 0 || i >= n {
			return fmt.Errorf("unexpected object %q", cm.Name)
		}
		delivery.Add(time.Duration(now - sent[i].Load()))
		seen++
	}
	return nil
}
