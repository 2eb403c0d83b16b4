// Package storagetest is the conformance suite every storage.Interface
// implementation passes (the etcd store and the watch cache). It uses
// corev1 ConfigMaps under Prefix as test objects and provides the codec
// and helpers the implementations' tests need to build a store.
package storagetest
