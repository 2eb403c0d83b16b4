package etcd_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/pkg/storage"
	"github.com/tugcluster/tug/pkg/storage/etcd"
	"github.com/tugcluster/tug/pkg/storage/etcd/etcdtest"
	"github.com/tugcluster/tug/pkg/storage/storagetest"
)

func TestStoreConformance(t *testing.T) {
	client := etcdtest.Start(t)
	codec, err := storagetest.Codec()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	newStore := func(t *testing.T) storage.Interface {
		n++
		return etcd.New(client, codec, storagetest.NewConfigMap, etcd.WithKeyPrefix(fmt.Sprintf("/test-%d", n)))
	}
	storagetest.RunTests(t, newStore, storagetest.WithExpire(func(t *testing.T, s storage.Interface) {
		st := s.(*etcd.Store)
		ctx := context.Background()
		rev, err := st.CurrentRevision(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Compact(ctx, rev); err != nil {
			t.Fatal(err)
		}
	}))
}

// Objects are stored as Kubernetes stores them, so etcd tooling and
// migrations carry over.
func TestStoredFormat(t *testing.T) {
	client := etcdtest.Start(t)
	codec, err := storagetest.Codec()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s := etcd.New(client, codec, storagetest.NewConfigMap)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a"}, Data: map[string]string{"k": "v"}}
	out := &corev1.ConfigMap{}
	if err := s.Create(ctx, "/registry/configmaps/ns/a", cm, out); err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get(ctx, "/registry/configmaps/ns/a")
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("raw get: %v %v", resp, err)
	}
	kv := resp.Kvs[0]
	if !bytes.HasPrefix(kv.Value, []byte("k8s\x00")) {
		t.Errorf("stored value starts with %q, want the protobuf magic", kv.Value[:min(8, len(kv.Value))])
	}
	stored := &corev1.ConfigMap{}
	if _, _, err := codec.Decode(kv.Value, nil, stored); err != nil {
		t.Fatalf("decode stored value: %v", err)
	}
	if stored.ResourceVersion != "" || stored.Data["k"] != "v" {
		t.Errorf("stored object = %+v, want data k=v and no resourceVersion", stored)
	}
	if out.ResourceVersion != fmt.Sprint(kv.ModRevision) {
		t.Errorf("resourceVersion %s, want mod revision %d", out.ResourceVersion, kv.ModRevision)
	}
	rev, err := s.CurrentRevision(ctx)
	if err != nil || rev < kv.ModRevision {
		t.Errorf("CurrentRevision = %d, %v; want >= %d", rev, err, kv.ModRevision)
	}
}

func TestEmbeddedLifecycle(t *testing.T) {
	e, err := etcd.StartEmbedded(context.Background(), etcd.EmbeddedConfig{DataDir: t.TempDir(), FreePorts: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Endpoints()) != 1 {
		t.Errorf("endpoints %v", e.Endpoints())
	}
	if _, err := e.Client().Put(context.Background(), "/k", "v"); err != nil {
		t.Errorf("put: %v", err)
	}
	e.Close()
	e.Close()
	select {
	case err := <-e.Err():
		if err != nil {
			t.Errorf("member error after close: %v", err)
		}
	default:
	}
}
