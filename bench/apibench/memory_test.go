package apibench

import (
	"context"
	"runtime"
	"strconv"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BenchmarkStoredHeap stores b.N ConfigMaps (16 clients) and reports how
// much the live Go heap of the whole process (etcd, API server, watch
// cache, and the idle clients) grew per stored object. Run it with a
// fixed count and -memprofile to see who holds the memory, e.g.
// -bench StoredHeap -benchtime 20000x -memprofile mem.out, then
// `go tool pprof -sample_index=inuse_space`.
func BenchmarkStoredHeap(b *testing.B) {
	cs := clients(b, 16)
	ns := uniqueNamespace(b, cs[0], "heap")
	before := liveHeap()
	measure(b, len(cs), func(ctx context.Context, w, i int) error {
		_, err := cs[w].CoreV1().ConfigMaps(ns).Create(ctx, configMap(ns, "cm-"+strconv.Itoa(i)), metav1.CreateOptions{})
		return err
	})
	b.ReportMetric(float64(liveHeap()-before)/float64(b.N), "heap-B/object")
}

// liveHeap is the heap in use after a full collection.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
