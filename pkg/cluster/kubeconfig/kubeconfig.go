// Package kubeconfig writes the admin kubeconfig of a tug server: one
// cluster (the local API server with the CA embedded), one user (the admin
// client certificate embedded) and one context, "tug", made current.
//
// It only writes files; it does not know how the certificates were made.
package kubeconfig

import (
	"fmt"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/tugcluster/tug/pkg/cluster/internal/atomicfile"
)

// ContextName names the cluster, the user and the context in the file.
const ContextName = "tug"

// Admin is what the admin kubeconfig holds.
type Admin struct {
	// Server is the API server URL, e.g. https://127.0.0.1:6443.
	Server string
	// CAPEM verifies the server; CertPEM and KeyPEM authenticate the admin.
	CAPEM, CertPEM, KeyPEM []byte
}

// Build returns the kubeconfig for a.
func Build(a Admin) *clientcmdapi.Config {
	cfg := clientcmdapi.NewConfig()
	cluster := clientcmdapi.NewCluster()
	cluster.Server = a.Server
	cluster.CertificateAuthorityData = a.CAPEM
	cfg.Clusters[ContextName] = cluster

	user := clientcmdapi.NewAuthInfo()
	user.ClientCertificateData = a.CertPEM
	user.ClientKeyData = a.KeyPEM
	cfg.AuthInfos[ContextName] = user

	ctx := clientcmdapi.NewContext()
	ctx.Cluster = ContextName
	ctx.AuthInfo = ContextName
	cfg.Contexts[ContextName] = ctx
	cfg.CurrentContext = ContextName
	return cfg
}

// Write writes the kubeconfig for a to path with mode 0600, replacing any
// previous file atomically.
func Write(path string, a Admin) error {
	data, err := clientcmd.Write(*Build(a))
	if err != nil {
		return fmt.Errorf("encode kubeconfig: %w", err)
	}
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	return nil
}
