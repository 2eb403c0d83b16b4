package etcd

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tugcluster/tug/pkg/storage"
)

// GuaranteedUpdate implements storage.Interface.
func (s *Store) GuaranteedUpdate(ctx context.Context, key string, out runtime.Object, pre *storage.Preconditions, tryUpdate storage.UpdateFunc) error {
	return s.GuaranteedUpdateFrom(ctx, key, out, pre, tryUpdate, nil)
}

// current is the state an update starts from: decoded, encoded and its
// revision. fresh says it was just read from etcd rather than taken from
// a possibly stale hint.
type current struct {
	obj   runtime.Object
	data  []byte
	rev   int64
	fresh bool
}

// GuaranteedUpdateFrom is GuaranteedUpdate starting from hint, a copy of
// the object as a watch cache last saw it (nil: read etcd first). The
// hint saves a read when it is current; when it is stale, the write's
// revision check fails and the update is retried on what etcd holds.
// Preconditions, tryUpdate errors and "nothing changed" are only
// believed on state read from etcd. The hint is handed to tryUpdate, so
// the caller must not share it.
func (s *Store) GuaranteedUpdateFrom(ctx context.Context, key string, out runtime.Object, pre *storage.Preconditions, tryUpdate storage.UpdateFunc, hint runtime.Object) error {
	k := s.keyPrefix + key
	var cur current
	var err error
	if hint != nil {
		cur, err = s.fromHint(hint)
	}
	if hint == nil || err != nil {
		if cur, err = s.read(ctx, k); err != nil {
			return fmt.Errorf("update %s: %w", key, err)
		}
	}
	for {
		if cur.obj == nil {
			return fmt.Errorf("update %s: %w", key, storage.ErrNotFound)
		}
		data, err := s.apply(key, cur.obj, pre, tryUpdate)
		if err == nil && bytes.Equal(data, cur.data) {
			if cur.fresh {
				return s.decode(cur.data, out, cur.rev)
			}
			err = errStale // "unchanged" must be checked against etcd
		}
		if err != nil {
			if cur.fresh {
				return err
			}
			if cur, err = s.read(ctx, k); err != nil {
				return fmt.Errorf("update %s: %w", key, err)
			}
			continue
		}
		txn, err := s.client.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(k), "=", cur.rev)).
			Then(clientv3.OpPut(k, string(data))).
			Else(clientv3.OpGet(k)).
			Commit()
		if err != nil {
			return fmt.Errorf("update %s: %w", key, err)
		}
		if txn.Succeeded {
			if err := s.decode(data, out, txn.Header.Revision); err != nil {
				return fmt.Errorf("update %s: %w", key, err)
			}
			return nil
		}
		// Someone wrote in between (or the hint was stale): retry on what
		// etcd holds.
		if cur, err = s.fromKVs(txn.Responses[0].GetResponseRange().Kvs); err != nil {
			return fmt.Errorf("update %s: %w", key, err)
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("update %s: %w", key, err)
		}
	}
}

// errStale marks an outcome computed on a hint that must be rechecked.
var errStale = errors.New("stale hint")

// apply checks the preconditions on cur and runs tryUpdate, returning the
// new object's encoding.
func (s *Store) apply(key string, cur runtime.Object, pre *storage.Preconditions, tryUpdate storage.UpdateFunc) ([]byte, error) {
	if err := checkPreconditions(key, pre, cur); err != nil {
		return nil, err
	}
	updated, err := tryUpdate(cur)
	if err != nil {
		return nil, err
	}
	data, err := s.encode(updated)
	if err != nil {
		return nil, fmt.Errorf("update %s: %w", key, err)
	}
	return data, nil
}

// read fetches the key's current state from etcd (obj nil when absent).
func (s *Store) read(ctx context.Context, k string) (current, error) {
	resp, err := s.client.Get(ctx, k)
	if err != nil {
		return current{}, err
	}
	return s.fromKVs(resp.Kvs)
}

func (s *Store) fromKVs(kvs []*mvccpb.KeyValue) (current, error) {
	if len(kvs) == 0 {
		return current{fresh: true}, nil
	}
	obj := s.newFunc()
	if err := s.decode(kvs[0].Value, obj, kvs[0].ModRevision); err != nil {
		return current{}, err
	}
	return current{obj: obj, data: kvs[0].Value, rev: kvs[0].ModRevision, fresh: true}, nil
}

// fromHint takes a cached object as the starting state; its encoding is
// what etcd holds if the hint is current.
func (s *Store) fromHint(hint runtime.Object) (current, error) {
	acc, err := meta.Accessor(hint)
	if err != nil {
		return current{}, err
	}
	rv := acc.GetResourceVersion()
	rev, err := storage.ParseResourceVersion(rv)
	if err != nil || rev == 0 {
		return current{}, errors.New("hint without a resourceVersion")
	}
	// The hint is the caller's own copy: encode it without its
	// resourceVersion in place rather than through one more copy.
	acc.SetResourceVersion("")
	data, err := s.encode(hint)
	acc.SetResourceVersion(rv)
	if err != nil {
		return current{}, err
	}
	return current{obj: hint, data: data, rev: rev}, nil
}
