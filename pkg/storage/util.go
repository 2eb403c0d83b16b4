package storage

import (
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// ParseResourceVersion turns a resourceVersion string into a revision;
// "" and "0" are 0.
func ParseResourceVersion(rv string) (int64, error) {
	if rv == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(rv, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid resource version %q", rv)
	}
	return n, nil
}

// FormatResourceVersion is the inverse of ParseResourceVersion.
func FormatResourceVersion(rev int64) string {
	return strconv.FormatInt(rev, 10)
}

// PrefixKey returns key with a trailing "/": the key range a recursive
// list or watch of key covers.
func PrefixKey(key string) string {
	if strings.HasSuffix(key, "/") {
		return key
	}
	return key + "/"
}

// SetObjectResourceVersion sets metadata.resourceVersion of obj to rev
// (cleared when rev is 0).
func SetObjectResourceVersion(obj runtime.Object, rev int64) error {
	acc, err := meta.Accessor(obj)
	if err != nil {
		return fmt.Errorf("object accessor: %w", err)
	}
	if rev == 0 {
		acc.SetResourceVersion("")
	} else {
		acc.SetResourceVersion(FormatResourceVersion(rev))
	}
	return nil
}

// ObjectResourceVersion returns metadata.resourceVersion of obj as a
// revision.
func ObjectResourceVersion(obj runtime.Object) (int64, error) {
	acc, err := meta.Accessor(obj)
	if err != nil {
		return 0, fmt.Errorf("object accessor: %w", err)
	}
	return ParseResourceVersion(acc.GetResourceVersion())
}

// SetList fills listObj with items and its list metadata: the
// resourceVersion rev, the continue token and, when remaining is not nil,
// remainingItemCount.
func SetList(listObj runtime.Object, items []runtime.Object, rev int64, cont string, remaining *int64) error {
	if err := meta.SetList(listObj, items); err != nil {
		return fmt.Errorf("set list items: %w", err)
	}
	la, err := meta.ListAccessor(listObj)
	if err != nil {
		return fmt.Errorf("list accessor: %w", err)
	}
	la.SetResourceVersion(FormatResourceVersion(rev))
	la.SetContinue(cont)
	la.SetRemainingItemCount(remaining)
	return nil
}

// InitialEventsEndBookmark returns the BOOKMARK object that ends the
// initial events of a watch with SendInitialEvents: an empty object of
// the watched type carrying rev and the annotation
// metav1.InitialEventsAnnotationKey = "true".
func InitialEventsEndBookmark(newFunc func() runtime.Object, rev int64) (runtime.Object, error) {
	obj := newFunc()
	acc, err := meta.Accessor(obj)
	if err != nil {
		return nil, fmt.Errorf("object accessor: %w", err)
	}
	acc.SetResourceVersion(FormatResourceVersion(rev))
	acc.SetAnnotations(map[string]string{metav1.InitialEventsAnnotationKey: "true"})
	return obj, nil
}

// BookmarkObject returns an empty object of the watched type carrying rev,
// for a progress BOOKMARK event.
func BookmarkObject(newFunc func() runtime.Object, rev int64) (runtime.Object, error) {
	obj := newFunc()
	if err := SetObjectResourceVersion(obj, rev); err != nil {
		return nil, err
	}
	return obj, nil
}

// ExpiredStatus is the object of the ERROR event that ends a watch whose
// resourceVersion is too old (HTTP 410, reason Expired).
func ExpiredStatus(msg string) *metav1.Status {
	return &metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure,
		Message:  msg,
		Reason:   metav1.StatusReasonExpired,
		Code:     410,
	}
}

// WantsInitialEvents reports whether a watch with opts starts by sending
// the current state as ADDED events: when asked explicitly, or by default
// for resourceVersion "" and "0".
func WantsInitialEvents(opts ListOptions) bool {
	if opts.SendInitialEvents != nil {
		return *opts.SendInitialEvents
	}
	return opts.ResourceVersion == "" || opts.ResourceVersion == "0"
}

// InternalErrorStatus is the object of the ERROR event that ends a watch
// on an unexpected failure (HTTP 500).
func InternalErrorStatus(err error) *metav1.Status {
	return &metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure,
		Message:  err.Error(),
		Reason:   metav1.StatusReasonInternalError,
		Code:     500,
	}
}
