// Package rootcacert is the root CA publisher: every active namespace has
// a ConfigMap "kube-root-ca.crt" whose ca.crt is the cluster CA, so pods
// can verify the API server at kubernetes.default.svc with the
// credentials mounted at /var/run/secrets/kubernetes.io/serviceaccount.
// An edited or deleted ConfigMap is put back.
package rootcacert
