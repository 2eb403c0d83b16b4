// Package storage defines how the API server keeps objects: the Interface
// that the etcd store (storage/etcd) and the watch cache (storage/cacher)
// implement, the sentinel errors they return, and the selection predicate
// used by list and watch, plus the pieces both implementations share:
// the continue-token format (continue.go), the watch event filter with its
// "left the selection is DELETED, entered is ADDED" rule (filter.go), and
// resourceVersion, list and status helpers (util.go).
//
// Storage knows keys, typed objects and revisions. It must not know HTTP,
// validation or defaults: those belong to pkg/apiserver.
package storage
