// Package openapi builds the OpenAPI documents the API server publishes:
// the Swagger 2.0 document at /openapi/v2, the OpenAPI v3 index at
// /openapi/v3 and one v3 document per group version
// (/openapi/v3/api/v1, /openapi/v3/apis/apps/v1...).
//
// Schemas are derived by reflection from the Go types of the served
// resources (json tags, SwaggerDoc descriptions, patch strategy tags), and
// list/map semantics (x-kubernetes-list-type, list-map keys, map types,
// defaults) come from the structured-merge-diff schema that client-go ships
// for the built-in types, so kubectl explain, client-side apply, field
// validation detection and server-side apply see the shapes they expect.
//
// Documents are built lazily on first use, once, and are deterministic.
// The package owns only document generation and serving; routing,
// authentication and the rest of the HTTP surface belong to pkg/apiserver.
package openapi
