// Package tokens is the service account token controller. A Secret of type
// kubernetes.io/service-account-token whose kubernetes.io/service-account.name
// annotation names an account gets, as in Kubernetes, a token for that
// account, the cluster CA and its namespace in its data (token, ca.crt,
// namespace) and the account's UID in kubernetes.io/service-account.uid.
//
// The token comes from the TokenRequest API, bound to the Secret, so
// deleting the Secret revokes it; it lasts 2^32-1 seconds (about 136
// years), the longest a TokenRequest grants, since such tokens are meant
// not to expire. A Secret whose account does not exist, or exists with
// another UID, is deleted, and so are an account's token Secrets when the
// account is deleted.
package tokens
