package etcd

import (
	"bytes"
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tugcluster/tug/pkg/storage"
)

// Store is a storage.Interface over etcd.
type Store struct {
	client    *clientv3.Client
	codec     runtime.Codec
	newFunc   func() runtime.Object
	keyPrefix string
}

var _ storage.Interface = (*Store)(nil)

// Option configures a Store.
type Option func(*Store)

// WithKeyPrefix stores every key under prefix in etcd (prefix + key).
// Callers keep using their own keys; several clusters or tests can share
// one etcd this way.
func WithKeyPrefix(prefix string) Option {
	return func(s *Store) { s.keyPrefix = prefix }
}

// New returns a Store writing objects encoded with codec. newFunc returns
// an empty object of the stored type (used to decode watch events).
func New(client *clientv3.Client, codec runtime.Codec, newFunc func() runtime.Object, opts ...Option) *Store {
	s := &Store{client: client, codec: codec, newFunc: newFunc}
	for _, o := range opts {
		o(s)
	}
	return s
}

// NewFunc returns an empty object of the stored type.
func (s *Store) NewFunc() runtime.Object { return s.newFunc() }

// CurrentRevision returns the latest revision of the whole etcd keyspace,
// read linearizably at the cost of a count-only range.
func (s *Store) CurrentRevision(ctx context.Context) (int64, error) {
	resp, err := s.client.Get(ctx, s.keyPrefix+"/", clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("read current revision: %w", err)
	}
	return resp.Header.Revision, nil
}

// RequestWatchProgress asks etcd to send a progress notification on every
// watch of this client; a watch opened with AllowBookmarks turns it into a
// BOOKMARK event once it has delivered every event up to the current
// revision.
func (s *Store) RequestWatchProgress(context.Context) error {
	// Progress requests reach the watches of the gRPC stream chosen by the
	// context's metadata: the client's own context plus require-leader
	// matches the one watches use.
	if err := s.client.RequestProgress(clientv3.WithRequireLeader(s.client.Ctx())); err != nil {
		return fmt.Errorf("request watch progress: %w", err)
	}
	return nil
}

// Compact compacts etcd history up to rev: older revisions can no longer
// be read or watched.
func (s *Store) Compact(ctx context.Context, rev int64) error {
	if _, err := s.client.Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil {
		return fmt.Errorf("compact to %d: %w", rev, err)
	}
	return nil
}

// Create implements storage.Interface.
func (s *Store) Create(ctx context.Context, key string, obj, out runtime.Object) error {
	data, err := s.encode(obj)
	if err != nil {
		return fmt.Errorf("create %s: %w", key, err)
	}
	k := s.keyPrefix + key
	resp, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(k), "=", 0)).
		Then(clientv3.OpPut(k, string(data))).
		Commit()
	if err != nil {
		return fmt.Errorf("create %s: %w", key, err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("create %s: %w", key, storage.ErrExists)
	}
	if out != nil {
		if err := s.decode(data, out, resp.Header.Revision); err != nil {
			return fmt.Errorf("create %s: %w", key, err)
		}
	}
	return nil
}

// Get implements storage.Interface. Every read goes to etcd and is
// linearizable; a resourceVersion newer than etcd's revision fails with
// ErrTooLarge.
func (s *Store) Get(ctx context.Context, key string, opts storage.GetOptions, out runtime.Object) error {
	minRev, err := storage.ParseResourceVersion(opts.ResourceVersion)
	if err != nil {
		return fmt.Errorf("get %s: %w", key, err)
	}
	resp, err := s.client.Get(ctx, s.keyPrefix+key)
	if err != nil {
		return fmt.Errorf("get %s: %w", key, err)
	}
	if minRev > resp.Header.Revision {
		return fmt.Errorf("get %s at %d (current %d): %w", key, minRev, resp.Header.Revision, storage.ErrTooLarge)
	}
	if len(resp.Kvs) == 0 {
		if opts.IgnoreNotFound {
			return zero(out)
		}
		return fmt.Errorf("get %s: %w", key, storage.ErrNotFound)
	}
	kv := resp.Kvs[0]
	if err := s.decode(kv.Value, out, kv.ModRevision); err != nil {
		return fmt.Errorf("get %s: %w", key, err)
	}
	return nil
}

// Delete implements storage.Interface. out receives the last stored state
// with the resourceVersion of the deletion, as a watch DELETED event
// carries it.
func (s *Store) Delete(ctx context.Context, key string, out runtime.Object, pre *storage.Preconditions) error {
	k := s.keyPrefix + key
	resp, err := s.client.Get(ctx, k)
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	kvs := resp.Kvs
	for {
		if len(kvs) == 0 {
			return fmt.Errorf("delete %s: %w", key, storage.ErrNotFound)
		}
		cur := kvs[0]
		curObj := s.newFunc()
		if err := s.decode(cur.Value, curObj, cur.ModRevision); err != nil {
			return fmt.Errorf("delete %s: %w", key, err)
		}
		if err := checkPreconditions(key, pre, curObj); err != nil {
			return err
		}
		txn, err := s.client.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(k), "=", cur.ModRevision)).
			Then(clientv3.OpDelete(k)).
			Else(clientv3.OpGet(k)).
			Commit()
		if err != nil {
			return fmt.Errorf("delete %s: %w", key, err)
		}
		if txn.Succeeded {
			if out == nil {
				return nil
			}
			if err := s.decode(cur.Value, out, txn.Header.Revision); err != nil {
				return fmt.Errorf("delete %s: %w", key, err)
			}
			return nil
		}
		kvs = txn.Responses[0].GetResponseRange().Kvs
	}
}

func checkPreconditions(key string, pre *storage.Preconditions, obj runtime.Object) error {
	if pre == nil {
		return nil
	}
	acc, err := meta.Accessor(obj)
	if err != nil {
		return fmt.Errorf("preconditions on %s: %w", key, err)
	}
	if pre.UID != nil && *pre.UID != acc.GetUID() {
		return fmt.Errorf("%s: precondition failed: UID in precondition: %v, UID in object meta: %v: %w",
			key, *pre.UID, acc.GetUID(), storage.ErrConflict)
	}
	if pre.ResourceVersion != nil && *pre.ResourceVersion != acc.GetResourceVersion() {
		return fmt.Errorf("%s: precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v: %w",
			key, *pre.ResourceVersion, acc.GetResourceVersion(), storage.ErrConflict)
	}
	return nil
}

// encode returns the stored form of obj: resourceVersion cleared. obj is
// left untouched.
func (s *Store) encode(obj runtime.Object) ([]byte, error) {
	acc, err := meta.Accessor(obj)
	if err != nil {
		return nil, fmt.Errorf("object accessor: %w", err)
	}
	if acc.GetResourceVersion() != "" {
		obj = obj.DeepCopyObject()
		if err := storage.SetObjectResourceVersion(obj, 0); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	if err := s.codec.Encode(obj, &buf); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return buf.Bytes(), nil
}

// decode fills out from data and sets its resourceVersion to rev.
func (s *Store) decode(data []byte, out runtime.Object, rev int64) error {
	if out == nil {
		return nil
	}
	if err := zero(out); err != nil {
		return err
	}
	if _, _, err := s.codec.Decode(data, nil, out); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return storage.SetObjectResourceVersion(out, rev)
}

// zero resets out to its empty value so decoding does not merge into
// stale fields.
func zero(out runtime.Object) error {
	v, err := conversion.EnforcePtr(out)
	if err != nil {
		return fmt.Errorf("output object: %w", err)
	}
	v.SetZero()
	return nil
}
