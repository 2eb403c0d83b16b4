package storage

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

// FilterEvent applies p to a change and returns the event a watcher with
// that predicate sees, or false when it sees nothing. typ is ADDED (obj is
// the new object, prev nil), MODIFIED (obj new, prev old) or DELETED (obj
// the last state). An object that leaves the selection is reported as
// DELETED carrying prev with obj's resourceVersion; one that enters it as
// ADDED.
func FilterEvent(p SelectionPredicate, typ watch.EventType, obj, prev runtime.Object) (watch.Event, bool, error) {
	if p.Empty() {
		return watch.Event{Type: typ, Object: obj}, true, nil
	}
	cur, err := p.Matches(obj)
	if err != nil {
		return watch.Event{}, false, err
	}
	if typ != watch.Modified || prev == nil {
		return watch.Event{Type: typ, Object: obj}, cur, nil
	}
	old, err := p.Matches(prev)
	if err != nil {
		return watch.Event{}, false, err
	}
	switch {
	case cur && old:
		return watch.Event{Type: watch.Modified, Object: obj}, true, nil
	case cur:
		return watch.Event{Type: watch.Added, Object: obj}, true, nil
	case old:
		rev, err := ObjectResourceVersion(obj)
		if err != nil {
			return watch.Event{}, false, err
		}
		gone := prev.DeepCopyObject()
		if err := SetObjectResourceVersion(gone, rev); err != nil {
			return watch.Event{}, false, err
		}
		return watch.Event{Type: watch.Deleted, Object: gone}, true, nil
	}
	return watch.Event{}, false, nil
}
