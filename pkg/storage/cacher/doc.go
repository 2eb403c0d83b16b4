// Package cacher is the watch cache: a storage.Interface in front of the
// etcd store for one resource prefix ("/registry/pods/"). It keeps the
// current objects and a ring of recent events in memory, fed by a single
// etcd watch, and serves lists and watches from them so that clients never
// hammer etcd. Writes go straight to the store.
//
// Objects in the cache are immutable once stored; every object handed out
// (Get, GetList, watch events) is a deep copy the caller may change.
//
// Watchers that cannot keep up are closed rather than waited for: the
// client resumes from the last resourceVersion it saw. A watcher whose
// field selector pins the indexed field (WithIndexField) is only offered
// events about objects with that value, so dispatch cost does not grow
// with the number of such watchers.
package cacher
