package storage

import (
	"context"
	"errors"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// Sentinel error kinds. Implementations wrap them with %w and the key;
// callers classify with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	// ErrConflict: a precondition (resourceVersion or UID) did not match.
	ErrConflict = errors.New("conflict")
	// ErrGone: the requested resourceVersion has been compacted or is older
	// than what a watch cache still holds (HTTP 410).
	ErrGone = errors.New("resource version too old")
	// ErrTooLarge: the requested resourceVersion is newer than the store
	// reached within the wait budget (HTTP 504 in Kubernetes, "Timeout").
	ErrTooLarge = errors.New("resource version too large")
	// ErrInvalidContinue: a continue token could not be decoded.
	ErrInvalidContinue = errors.New("invalid continue token")
)

// Preconditions must hold on the stored object for a write to happen.
type Preconditions struct {
	UID             *types.UID
	ResourceVersion *string
}

// GetOptions tune a single-object read.
type GetOptions struct {
	// ResourceVersion "" reads the latest state from etcd (consistent);
	// "0" or any other value may be served from a cache not older than it.
	ResourceVersion string
	// IgnoreNotFound returns a zero object instead of ErrNotFound.
	IgnoreNotFound bool
}

// ListOptions tune list and watch.
type ListOptions struct {
	// ResourceVersion has the Kubernetes meaning: "" is a consistent read,
	// "0" is any state, N is "not older than N" (or exactly N when
	// ResourceVersionMatch is Exact). For watch it is the revision after
	// which events are sent; "" and "0" start with the current state sent
	// as ADDED events.
	ResourceVersion      string
	ResourceVersionMatch metav1.ResourceVersionMatch
	Predicate            SelectionPredicate
	// Recursive lists or watches every key under the prefix given.
	Recursive bool
	// AllowBookmarks lets a watch send BOOKMARK events.
	AllowBookmarks bool
	// SendInitialEvents (watch only): send the current state as ADDED
	// events first, then a BOOKMARK annotated
	// metav1.InitialEventsAnnotationKey = "true".
	SendInitialEvents *bool
}

// AttrFunc returns the labels and the selectable fields of an object.
type AttrFunc func(obj runtime.Object) (labels.Set, fields.Set, error)

// SelectionPredicate filters list and watch results and pages lists.
type SelectionPredicate struct {
	Label    labels.Selector // nil means everything
	Field    fields.Selector // nil means everything
	GetAttrs AttrFunc        // required when Label or Field is not empty
	Limit    int64
	Continue string
}

// Empty reports whether the predicate selects everything.
func (p SelectionPredicate) Empty() bool {
	return (p.Label == nil || p.Label.Empty()) && (p.Field == nil || p.Field.Empty())
}

// Matches reports whether obj is selected by the predicate.
func (p SelectionPredicate) Matches(obj runtime.Object) (bool, error) {
	if p.Empty() {
		return true, nil
	}
	ls, fs, err := p.GetAttrs(obj)
	if err != nil {
		return false, err
	}
	if p.Label != nil && !p.Label.Matches(ls) {
		return false, nil
	}
	if p.Field != nil && !p.Field.Matches(fs) {
		return false, nil
	}
	return true, nil
}

// UpdateFunc computes the new object from the current one. It must not
// modify current. Returning an error aborts the update with that error.
type UpdateFunc func(current runtime.Object) (updated runtime.Object, err error)

// Interface is a typed object store keyed by strings like
// "/registry/pods/default/web-1". Every object returned carries its
// metadata.resourceVersion set to the store revision of its last write;
// every object stored has it cleared.
type Interface interface {
	// Create stores obj at key if the key is empty (ErrExists otherwise)
	// and decodes the stored state into out.
	Create(ctx context.Context, key string, obj, out runtime.Object) error
	// Get decodes the object at key into out.
	Get(ctx context.Context, key string, opts GetOptions, out runtime.Object) error
	// GetList fills listObj (a *XList) with the objects under key that
	// match opts.Predicate, sets its resourceVersion and, when a limit
	// cut the list short, its continue token and remainingItemCount.
	GetList(ctx context.Context, key string, opts ListOptions, listObj runtime.Object) error
	// GuaranteedUpdate reads the current object, calls tryUpdate, and writes
	// the result if the object did not change meanwhile, retrying tryUpdate
	// on a concurrent write. Preconditions are checked on every try and
	// fail with ErrConflict. A missing object fails with ErrNotFound.
	// If tryUpdate returns an object equal to current, nothing is written
	// and out receives current.
	GuaranteedUpdate(ctx context.Context, key string, out runtime.Object, pre *Preconditions, tryUpdate UpdateFunc) error
	// Delete removes the object at key if the preconditions hold and
	// decodes the last stored state into out, with the resourceVersion of
	// the deletion (as the DELETED watch event carries it).
	Delete(ctx context.Context, key string, out runtime.Object, pre *Preconditions) error
	// Watch streams changes under key (one object, or a prefix when
	// opts.Recursive). An ERROR event with a *metav1.Status (410 Expired)
	// ends a watch whose resourceVersion is too old.
	Watch(ctx context.Context, key string, opts ListOptions) (watch.Interface, error)
}
