package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/version"
)

// serveHealth answers /healthz, /livez and /readyz (and their named
// checks) like Kubernetes: "ok", or a list of checks with ?verbose.
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	endpoint, check, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	type result struct {
		name string
		err  error
	}
	checks := []result{{"ping", nil}, {"etcd", s.checkEtcd(r.Context())}}
	if endpoint == "readyz" {
		var err error
		if !s.isReady() {
			err = fmt.Errorf("caches not synced")
		}
		checks = append(checks, result{"informer-sync", err})
	}
	var b strings.Builder
	failed := false
	for _, c := range checks {
		if check != "" && c.name != check {
			continue
		}
		if c.err != nil {
			failed = true
			fmt.Fprintf(&b, "[-]%s failed: reason withheld\n", c.name)
		} else {
			fmt.Fprintf(&b, "[+]%s ok\n", c.name)
		}
	}
	if check != "" && b.Len() == 0 {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if failed {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "%s%s check failed\n", b.String(), endpoint)
		return
	}
	if _, verbose := r.URL.Query()["verbose"]; verbose {
		fmt.Fprintf(w, "%s%s check passed\n", b.String(), endpoint)
		return
	}
	fmt.Fprint(w, "ok")
}

func (s *Server) checkEtcd(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := s.cfg.Etcd.Get(ctx, "/registry/health")
	return err
}

// serveVersion answers /version.
func (s *Server) serveVersion(w http.ResponseWriter, r *http.Request) {
	major, minor := versionParts(s.cfg.Version)
	writeRaw(w, http.StatusOK, version.Info{
		Major: major, Minor: minor, GitVersion: s.cfg.Version, GitTreeState: "clean",
		GoVersion: runtime.Version(), Compiler: runtime.Compiler,
		Platform: runtime.GOOS + "/" + runtime.GOARCH,
	})
}

// versionParts splits "v1.37.2-tug" into "1" and "37".
func versionParts(v string) (string, string) {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 2 {
		return "", ""
	}
	return parts[0], parts[1]
}
