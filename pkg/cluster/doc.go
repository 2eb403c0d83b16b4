// Package cluster wires a tug server together: it prepares the data
// directory (certificates, join token, admin kubeconfig), starts the embedded
// etcd member or connects to an external etcd cluster, builds the API server,
// serves it over HTTPS, runs the controller manager against it (as
// "system:kube-controller-manager" with a token that lives only in the
// process), and owns startup ordering (Ready) and shutdown.
//
// It constructs and connects components; it must not contain their logic.
// Subpackages: pki (certificates), kubeconfig (admin kubeconfig file), token
// (join token file).
package cluster
