// Package apiserver serves the Kubernetes REST API over pkg/storage: request
// routing, discovery, OpenAPI, authentication, content negotiation (JSON,
// YAML, server-side tables), the generic object rules (metadata, status and
// spec separation, finalizers, graceful deletion, dry run, patches) and the
// translation of every error into a Kubernetes Status answer.
//
// Resource-specific behaviour (defaults, validation, columns) lives in
// pkg/apiserver/registry; this package must not grow per-kind logic beyond
// the few subresources whose semantics span kinds (binding, eviction, scale)
// and the Service address allocator.
package apiserver
