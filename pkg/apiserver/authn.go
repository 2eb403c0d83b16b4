package apiserver

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/tugcluster/tug/pkg/apiserver/satoken"
)

type userKey struct{}

// UserFrom returns the authenticated user of a request context.
func UserFrom(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(userKey{}).(User)
	return u, ok
}

// authenticate accepts a verified client certificate (CN = user, O =
// groups), a bearer token of the server's table or a service account
// token; anything else is 401, except the health
// probes, which answer anonymous callers as Kubernetes does.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, ok := s.userOf(r)
		if !ok {
			if isHealthPath(r.URL.Path) {
				next.ServeHTTP(w, r)
				return
			}
			writeRaw(w, http.StatusUnauthorized, apierrors.NewUnauthorized("Unauthorized"))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, user)))
	})
}

func (s *Server) userOf(r *http.Request) (User, bool) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, token, _ := strings.Cut(auth, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return User{}, false
		}
		return s.tokenUser(r.Context(), strings.TrimSpace(token), s.audiences)
	}
	if s.cfg.ClientCA != nil && r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		cert := r.TLS.VerifiedChains[0][0]
		if cert.Subject.CommonName == "" {
			return User{}, false
		}
		return User{Name: cert.Subject.CommonName, Groups: cert.Subject.Organization}, true
	}
	return User{}, false
}

// tokenUser authenticates a bearer token meant for one of audiences: one
// of the server's table (meant for the server itself) or a service
// account token.
func (s *Server) tokenUser(ctx context.Context, token string, audiences []string) (User, bool) {
	if satoken.Intersects(audiences, s.audiences) {
		for known, u := range s.cfg.Tokens {
			if subtle.ConstantTimeCompare([]byte(known), []byte(token)) == 1 {
				return u, true
			}
		}
	}
	return s.serviceAccountUser(ctx, token, audiences)
}
