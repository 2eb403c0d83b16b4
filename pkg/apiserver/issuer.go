package apiserver

import (
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// serveIssuerDiscovery answers the service account issuer's OpenID
// configuration or key set, so other systems (given the tokens meant for
// them) can verify tokens with the cluster's public key. RBAC lets every
// service account read them, as Kubernetes' default policy does.
func (s *Server) serveIssuerDiscovery(contentType string, doc func() ([]byte, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeRaw(w, http.StatusMethodNotAllowed, apierrors.NewMethodNotSupported(schema.GroupResource{}, r.Method))
			return
		}
		body, err := doc()
		if err != nil {
			writeRaw(w, http.StatusInternalServerError, apierrors.NewInternalError(err))
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(body)
	}
}
