package apibench

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tugcluster/tug/bench/internal/latency"
)

// clientCounts are the numbers of concurrent clients every benchmark runs
// with.
var clientCounts = []int{1, 16, 64}

const (
	getObjects  = 100 // objects BenchmarkGet reads from
	listObjects = 500 // objects each list in BenchmarkList returns
)

// runs numbers namespaces so that each run of a benchmark starts empty.
var runs atomic.Int64

func uniqueNamespace(b *testing.B, cs *kubernetes.Clientset, prefix string) string {
	ns := fmt.Sprintf("%s-%d", prefix, runs.Add(1))
	ensureNamespace(b, cs, ns)
	return ns
}

// configMap is a small object (about 250 bytes as JSON).
func configMap(ns, name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": "bench"}},
		Data:       map[string]string{"mode": "benchmark", "level": "3", "endpoint": "http://bench.example:8080/" + name},
	}
}

// forEachClientCount runs fn as a sub-benchmark per client count.
func forEachClientCount(b *testing.B, fn func(b *testing.B, cs []*kubernetes.Clientset)) {
	for _, n := range clientCounts {
		b.Run("clients="+strconv.Itoa(n), func(b *testing.B) {
			fn(b, clients(b, n))
		})
	}
}

// measure runs b.N ops over len(cs) workers with the timer on, and
// reports throughput and latency quantiles.
func measure(b *testing.B, workers int, op latency.Op) latency.Result {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b.ResetTimer()
	res, err := latency.Run(ctx, b.N, workers, op)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	report(b, res)
	return res
}

func report(b *testing.B, res latency.Result) {
	b.ReportMetric(res.PerSecond(), "ops/s")
	b.ReportMetric(latency.Ms(res.Latency.Quantile(0.50)), "p50-ms")
	b.ReportMetric(latency.Ms(res.Latency.Quantile(0.99)), "p99-ms")
}

// fill creates n ConfigMaps cm-0..cm-(n-1) in ns.
func fill(b *testing.B, cs []*kubernetes.Clientset, ns string, n int) {
	b.Helper()
	_, err := latency.Run(context.Background(), n, len(cs), func(ctx context.Context, w, i int) error {
		_, err := cs[w].CoreV1().ConfigMaps(ns).Create(ctx, configMap(ns, "cm-"+strconv.Itoa(i)), metav1.CreateOptions{})
		return err
	})
	if err != nil {
		b.Fatalf("fill %s: %v", ns, err)
	}
}

func BenchmarkCreate(b *testing.B) {
	forEachClientCount(b, func(b *testing.B, cs []*kubernetes.Clientset) {
		ns := uniqueNamespace(b, cs[0], "create")
		measure(b, len(cs), func(ctx context.Context, w, i int) error {
			_, err := cs[w].CoreV1().ConfigMaps(ns).Create(ctx, configMap(ns, "cm-"+strconv.Itoa(i)), metav1.CreateOptions{})
			return err
		})
	})
}

func BenchmarkUpdate(b *testing.B) {
	forEachClientCount(b, func(b *testing.B, cs []*kubernetes.Clientset) {
		ns := uniqueNamespace(b, cs[0], "update")
		// Each client updates its own object, so no update conflicts.
		objs := make([]*corev1.ConfigMap, len(cs))
		for w := range objs {
			cm, err := cs[w].CoreV1().ConfigMaps(ns).Create(context.Background(), configMap(ns, "cm-"+strconv.Itoa(w)), metav1.CreateOptions{})
			if err != nil {
				b.Fatal(err)
			}
			objs[w] = cm
		}
		measure(b, len(cs), func(ctx context.Context, w, i int) error {
			cm := objs[w]
			cm.Data["level"] = strconv.Itoa(i)
			out, err := cs[w].CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{})
			if err != nil {
				return err
			}
			objs[w] = out
			return nil
		})
	})
}

func BenchmarkGet(b *testing.B) {
	var ns string
	forEachClientCount(b, func(b *testing.B, cs []*kubernetes.Clientset) {
		if ns == "" {
			ns = uniqueNamespace(b, cs[0], "get")
			fill(b, cs, ns, getObjects)
		}
		measure(b, len(cs), func(ctx context.Context, w, i int) error {
			_, err := cs[w].CoreV1().ConfigMaps(ns).Get(ctx, "cm-"+strconv.Itoa(i%getObjects), metav1.GetOptions{})
			return err
		})
	})
}

// BenchmarkList lists a namespace of 500 ConfigMaps (a consistent read,
// the default for client-go's List).
func BenchmarkList(b *testing.B) {
	var ns string
	forEachClientCount(b, func(b *testing.B, cs []*kubernetes.Clientset) {
		if ns == "" {
			ns = uniqueNamespace(b, cs[0], "list")
			fill(b, cs, ns, listObjects)
		}
		res := measure(b, len(cs), func(ctx context.Context, w, _ int) error {
			l, err := cs[w].CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return err
			}
			if len(l.Items) != listObjects {
				return fmt.Errorf("list returned %d items, want %d", len(l.Items), listObjects)
			}
			return nil
		})
		b.ReportMetric(res.PerSecond()*listObjects, "objects/s")
	})
}
