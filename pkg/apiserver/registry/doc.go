// Package registry describes every resource the API server serves: its
// names, its Go types, and how create and update treat it (defaults,
// validation, which fields an update may change, selectable fields and the
// columns of `kubectl get`). One file per resource. The review resources
// (selfsubjectreviews, selfsubjectaccessreviews...) are create-only and
// never stored: reviews.go says how each one answers its caller.
//
// It must not touch HTTP or storage: pkg/apiserver drives both and calls
// the hooks declared here.
package registry
