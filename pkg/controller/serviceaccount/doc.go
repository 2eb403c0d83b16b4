// Package serviceaccount is the service account controller: every active
// namespace has a ServiceAccount named "default", created when the
// namespace appears and again whenever it is deleted. It creates nothing in
// a namespace that is being deleted and never edits existing accounts.
package serviceaccount
