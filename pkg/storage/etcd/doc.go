// Package etcd implements storage.Interface over an etcd v3 client and
// starts an embedded etcd member (embed.go).
//
// Objects are encoded with the codec given to New (the API server passes a
// protobuf codec, so keys hold "k8s\x00" + runtime.Unknown, exactly as
// Kubernetes stores them). metadata.resourceVersion is the etcd
// ModRevision of the key: it is set on every object returned and cleared
// before every write. Writes are transactions conditioned on the revision
// read, so concurrent writers never overwrite each other silently.
//
// The package owns the key space it is given and nothing else: it knows no
// HTTP, validation or defaults. The watch cache (storage/cacher) sits in
// front of it for lists and watches.
package etcd
