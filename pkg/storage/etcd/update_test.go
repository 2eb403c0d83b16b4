package etcd_test

import (
	"context"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tugcluster/tug/pkg/storage"
	"github.com/tugcluster/tug/pkg/storage/etcd"
	"github.com/tugcluster/tug/pkg/storage/etcd/etcdtest"
	"github.com/tugcluster/tug/pkg/storage/storagetest"
)

// An update started from a stale cached copy ends as one started from
// etcd: the stale state's precondition failures, errors and "nothing
// changed" are rechecked against what is stored.
func TestGuaranteedUpdateFromStaleHint(t *testing.T) {
	client := etcdtest.Start(t)
	codec, err := storagetest.Codec()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s := etcd.New(client, codec, storagetest.NewConfigMap)
	const key = "/registry/configmaps/ns/a"
	stale := &corev1.ConfigMap{}
	if err := s.Create(ctx, key, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a"}, Data: map[string]string{"n": "0"}}, stale); err != nil {
		t.Fatal(err)
	}
	setN := func(v string) storage.UpdateFunc {
		return func(cur runtime.Object) (runtime.Object, error) {
			cm := cur.(*corev1.ConfigMap)
			cm.Data = map[string]string{"n": v}
			return cm, nil
		}
	}
	fresh := &corev1.ConfigMap{}
	if err := s.GuaranteedUpdate(ctx, key, fresh, nil, setN("1")); err != nil {
		t.Fatal(err)
	}

	t.Run("write retried on stored state", func(t *testing.T) {
		out := &corev1.ConfigMap{}
		var saw []string
		try := func(cur runtime.Object) (runtime.Object, error) {
			saw = append(saw, cur.(*corev1.ConfigMap).Data["n"])
			return setN("2")(cur)
		}
		if err := s.GuaranteedUpdateFrom(ctx, key, out, nil, try, stale.DeepCopy()); err != nil {
			t.Fatal(err)
		}
		if len(saw) != 2 || saw[0] != "0" || saw[1] != "1" || out.Data["n"] != "2" {
			t.Fatalf("tryUpdate saw %v, result %v; want [0 1] and n=2", saw, out.Data)
		}
		fresh = out
	})
	t.Run("precondition checked on stored state", func(t *testing.T) {
		rv := fresh.ResourceVersion
		out := &corev1.ConfigMap{}
		if err := s.GuaranteedUpdateFrom(ctx, key, out, &storage.Preconditions{ResourceVersion: &rv}, setN("3"), stale.DeepCopy()); err != nil {
			t.Fatalf("update with the current resourceVersion from a stale hint: %v", err)
		}
		fresh = out
	})
	t.Run("unchanged checked on stored state", func(t *testing.T) {
		// The stale copy already says n=0: only etcd knows that is a change.
		out := &corev1.ConfigMap{}
		if err := s.GuaranteedUpdateFrom(ctx, key, out, nil, setN("0"), stale.DeepCopy()); err != nil {
			t.Fatal(err)
		}
		got := &corev1.ConfigMap{}
		if err := s.Get(ctx, key, storage.GetOptions{}, got); err != nil || got.Data["n"] != "0" || out.ResourceVersion == fresh.ResourceVersion {
			t.Fatalf("stored %v (rv %s, before %s), %v; want n=0 written", got.Data, out.ResourceVersion, fresh.ResourceVersion, err)
		}
		fresh = out
	})
	t.Run("current hint writes without a read", func(t *testing.T) {
		out := &corev1.ConfigMap{}
		calls := 0
		try := func(cur runtime.Object) (runtime.Object, error) { calls++; return setN("4")(cur) }
		if err := s.GuaranteedUpdateFrom(ctx, key, out, nil, try, fresh.DeepCopy()); err != nil || calls != 1 || out.Data["n"] != "4" {
			t.Fatalf("got %v after %d tries, %v; want n=4 after one", out.Data, calls, err)
		}
	})
	t.Run("deleted meanwhile", func(t *testing.T) {
		if err := s.Delete(ctx, key, &corev1.ConfigMap{}, nil); err != nil {
			t.Fatal(err)
		}
		err := s.GuaranteedUpdateFrom(ctx, key, &corev1.ConfigMap{}, nil, setN("5"), fresh.DeepCopy())
		if !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("update of a deleted object from a hint: %v, want not found", err)
		}
	})
}
