// Package pki owns the certificates of a tug server: a private CA, the API
// server's serving certificate and the admin client certificate, kept as PEM
// files in one directory (keys 0600). Ensure creates what is missing and
// reuses what is still good, so restarts keep the same CA and clients keep
// trusting the server.
//
// It knows nothing about etcd, HTTP or kubeconfig files; callers pass the
// host names and addresses the serving certificate must cover.
package pki
