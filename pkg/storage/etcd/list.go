package etcd

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tugcluster/tug/pkg/storage"
)

// maxListBatch bounds how many keys one etcd range reads while a
// selective predicate fills a limited page.
const maxListBatch = 1000

// GetList implements storage.Interface. A list with a limit reads every
// page at the revision of the first one, so the pages add up to one
// consistent snapshot (or fail with ErrGone once it is compacted).
func (s *Store) GetList(ctx context.Context, key string, opts storage.ListOptions, listObj runtime.Object) error {
	res, err := s.list(ctx, key, opts)
	if err != nil {
		return fmt.Errorf("list %s: %w", key, err)
	}
	return storage.SetList(listObj, res.items, res.rev, res.cont, res.remaining)
}

// listResult is one page of a list.
type listResult struct {
	items     []runtime.Object
	rev       int64
	cont      string
	remaining *int64
}

func (s *Store) list(ctx context.Context, key string, opts storage.ListOptions) (listResult, error) {
	pred := opts.Predicate
	keyPrefix := key
	if opts.Recursive {
		keyPrefix = storage.PrefixKey(key)
	}
	fromKey := keyPrefix
	var atRev, minRev int64
	if pred.Continue != "" {
		if !opts.Recursive {
			return listResult{}, fmt.Errorf("%w: continue needs a recursive list", storage.ErrInvalidContinue)
		}
		var err error
		if fromKey, atRev, err = storage.DecodeContinue(pred.Continue, keyPrefix); err != nil {
			return listResult{}, err
		}
	} else {
		rv, err := storage.ParseResourceVersion(opts.ResourceVersion)
		if err != nil {
			return listResult{}, err
		}
		if opts.ResourceVersionMatch == metav1.ResourceVersionMatchExact {
			if rv == 0 {
				return listResult{}, fmt.Errorf("resourceVersionMatch=Exact needs a resourceVersion other than \"\" and \"0\"")
			}
			atRev = rv
		} else {
			minRev = rv
		}
	}

	if !opts.Recursive {
		return s.getOneAsList(ctx, key, atRev, minRev, pred)
	}

	end := clientv3.GetPrefixRangeEnd(s.keyPrefix + keyPrefix)
	batch := pred.Limit
	var (
		items     []runtime.Object
		count     int64 = -1
		lastKey   string
		more      bool
		remaining *int64
	)
scan:
	for {
		ops := []clientv3.OpOption{clientv3.WithRange(end)}
		if atRev > 0 {
			ops = append(ops, clientv3.WithRev(atRev))
		}
		if batch > 0 {
			ops = append(ops, clientv3.WithLimit(batch))
		}
		resp, err := s.client.Get(ctx, s.keyPrefix+fromKey, ops...)
		if err != nil {
			return listResult{}, readError(err, atRev)
		}
		if atRev == 0 {
			if minRev > resp.Header.Revision {
				return listResult{}, fmt.Errorf("at %d (current %d): %w", minRev, resp.Header.Revision, storage.ErrTooLarge)
			}
			atRev = resp.Header.Revision
		}
		if count < 0 {
			count = resp.Count
		}
		for i, kv := range resp.Kvs {
			obj := s.newFunc()
			if err := s.decode(kv.Value, obj, kv.ModRevision); err != nil {
				return listResult{}, fmt.Errorf("%s: %w", kv.Key, err)
			}
			ok, err := pred.Matches(obj)
			if err != nil {
				return listResult{}, err
			}
			if ok {
				items = append(items, obj)
			}
			if pred.Limit > 0 && int64(len(items)) == pred.Limit {
				lastKey = string(kv.Key)
				more = resp.More || i < len(resp.Kvs)-1
				break scan
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			break
		}
		fromKey = string(resp.Kvs[len(resp.Kvs)-1].Key)[len(s.keyPrefix):] + "\x00"
		if batch < maxListBatch {
			batch = min(batch*2, maxListBatch)
		}
	}

	cont := ""
	if more {
		var err error
		cont, err = storage.EncodeContinue(lastKey[len(s.keyPrefix):]+"\x00", keyPrefix, atRev)
		if err != nil {
			return listResult{}, err
		}
		if pred.Empty() {
			n := count - int64(len(items))
			remaining = &n
		}
	}
	return listResult{items: items, rev: atRev, cont: cont, remaining: remaining}, nil
}

// getOneAsList lists the single object at key.
func (s *Store) getOneAsList(ctx context.Context, key string, atRev, minRev int64, pred storage.SelectionPredicate) (listResult, error) {
	var ops []clientv3.OpOption
	if atRev > 0 {
		ops = append(ops, clientv3.WithRev(atRev))
	}
	resp, err := s.client.Get(ctx, s.keyPrefix+key, ops...)
	if err != nil {
		return listResult{}, readError(err, atRev)
	}
	if atRev == 0 {
		if minRev > resp.Header.Revision {
			return listResult{}, fmt.Errorf("at %d (current %d): %w", minRev, resp.Header.Revision, storage.ErrTooLarge)
		}
		atRev = resp.Header.Revision
	}
	var items []runtime.Object
	for _, kv := range resp.Kvs {
		obj := s.newFunc()
		if err := s.decode(kv.Value, obj, kv.ModRevision); err != nil {
			return listResult{}, err
		}
		ok, err := pred.Matches(obj)
		if err != nil {
			return listResult{}, err
		}
		if ok {
			items = append(items, obj)
		}
	}
	return listResult{items: items, rev: atRev}, nil
}

// readError classifies an error of a read at revision rev.
func readError(err error, rev int64) error {
	switch {
	case errors.Is(err, rpctypes.ErrCompacted):
		return fmt.Errorf("revision %d was compacted: %w", rev, storage.ErrGone)
	case errors.Is(err, rpctypes.ErrFutureRev):
		return fmt.Errorf("revision %d is in the future: %w", rev, storage.ErrTooLarge)
	}
	return err
}
