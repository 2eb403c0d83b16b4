// Package etcdtest starts an embedded etcd member for tests.
package etcdtest

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/tugcluster/tug/pkg/storage/etcd"
)

// Start starts an embedded etcd in t.TempDir() on free loopback ports and
// returns a client of it. Both stop when the test ends.
func Start(t testing.TB) *clientv3.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var (
		e   *etcd.Embedded
		err error
	)
	// A free port can be taken between choosing and binding it: retry.
	for range 3 {
		e, err = etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{
			DataDir:   t.TempDir(),
			FreePorts: true,
			Logger:    zap.NewNop(),
		})
		if err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("start embedded etcd: %v", err)
	}
	t.Cleanup(e.Close)
	return e.Client()
}
