package apiserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"

	"github.com/tugcluster/tug/pkg/apiserver/openapi"
	"github.com/tugcluster/tug/pkg/apiserver/registry"
	"github.com/tugcluster/tug/pkg/apiserver/satoken"
	"github.com/tugcluster/tug/pkg/storage"
	"github.com/tugcluster/tug/pkg/storage/cacher"
	"github.com/tugcluster/tug/pkg/storage/etcd"
)

// Server is the Kubernetes API server of a tug cluster.
type Server struct {
	cfg            Config
	scheme         *runtime.Scheme
	codecs         codecs
	resources      map[string]*resource // by "group/version/name"
	ordered        []*resource
	reviews        map[string]*registry.Review // by "group/version/name"
	reviewsOrdered []*registry.Review
	openapi        *openapi.Builder
	services       *serviceAllocator
	kubelet        *http.Transport // client of node agents
	metrics        *summaryCache   // node usage for metrics.k8s.io
	tokens         *satoken.Signer // service account tokens
	audiences      []string        // accepted token audiences

	ready     chan struct{}
	readyOnce sync.Once
}

// resource is one served resource with its store.
type resource struct {
	*registry.Resource
	store  storage.Interface // the watch cache in front of etcd
	cache  *cacher.Cacher
	prefix string // etcd key prefix, ending in "/"
	// selectable holds the field names field selectors may use.
	selectable fields.Set
}

// New builds the API server. Run must be called before it serves.
func New(cfg Config) (*Server, error) {
	if cfg.Etcd == nil {
		return nil, errors.New("apiserver: no etcd client")
	}
	if !cfg.ServiceCIDR.IsValid() {
		cfg.ServiceCIDR = netip.MustParsePrefix("10.43.0.0/16")
	}
	if cfg.NodePortMin == 0 {
		cfg.NodePortMin, cfg.NodePortMax = 30000, 32767
	}
	if cfg.WatchBookmarkInterval == 0 {
		cfg.WatchBookmarkInterval = time.Minute
	}
	if cfg.MetricsResolution <= 0 {
		cfg.MetricsResolution = DefaultMetricsResolution
	}
	if cfg.Version == "" {
		cfg.Version = "v1.37.2-tug"
	}
	scheme, err := registry.NewScheme()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		scheme:    scheme,
		codecs:    newCodecs(scheme),
		resources: map[string]*resource{},
		ready:     make(chan struct{}),
	}
	factory := serializer.NewCodecFactory(scheme)
	proto := protobuf.NewSerializer(scheme, scheme)
	resources := registry.AllWith(registry.Options{DefaultTolerationSeconds: cfg.DefaultTolerationSeconds})
	for _, r := range resources {
		gv := r.GroupVersion()
		codec := factory.CodecForVersions(proto, proto, gv, gv)
		prefix := keyPrefix(r)
		es := etcd.New(cfg.Etcd, codec, r.New)
		c := cacher.New(es, prefix, r.New, r.NewList, cacheOptions(r, cfg)...)
		res := &resource{Resource: r, store: c, cache: c, prefix: prefix}
		_, res.selectable, _ = attrsFunc(res)(r.New())
		res.selectable["metadata.namespace"] = ""
		s.resources[r.Group+"/"+r.Version+"/"+r.Name] = res
		s.ordered = append(s.ordered, res)
	}
	s.reviews = map[string]*registry.Review{}
	extra := []openapi.ExtraKind{
		{Group: "policy", Version: "v1", Kind: "Eviction", Object: &policyv1.Eviction{}},
		{Group: "", Version: "v1", Kind: "Binding", Object: &corev1.Binding{}},
		{Group: "autoscaling", Version: "v1", Kind: "Scale", Object: &autoscalingv1.Scale{}},
	}
	for _, rv := range registry.Reviews() {
		s.reviews[rv.Group+"/"+rv.Version+"/"+rv.Name] = rv
		s.reviewsOrdered = append(s.reviewsOrdered, rv)
		extra = append(extra, openapi.ExtraKind{Group: rv.Group, Version: rv.Version, Kind: rv.Kind, Object: rv.New()})
	}
	if s.tokens, err = newTokenSigner(cfg); err != nil {
		return nil, err
	}
	s.audiences = s.tokens.Issuers()
	s.kubelet = newKubeletTransport(cfg.KubeletClientCert)
	s.metrics = newSummaryCache(cfg.MetricsResolution, s.fetchSummary)
	s.services = newServiceAllocator(cfg.ServiceCIDR, cfg.NodePortMin, cfg.NodePortMax)
	s.openapi, err = openapi.New(resources, extra...)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return s, nil
}

// keyPrefix is /registry/<group>/<resource>/ ("/registry/pods/" for core).
func keyPrefix(r *registry.Resource) string {
	if r.Group == "" {
		return "/registry/" + r.Name + "/"
	}
	return "/registry/" + r.Group + "/" + r.Name + "/"
}

func cacheOptions(r *registry.Resource, cfg Config) []cacher.Option {
	opts := []cacher.Option{cacher.WithBookmarkInterval(cfg.WatchBookmarkInterval)}
	if cfg.WatchCacheSize > 0 {
		opts = append(opts, cacher.WithCapacity(cfg.WatchCacheSize))
	}
	if r.Group == "" && r.Name == "pods" {
		opts = append(opts, cacher.WithIndexField("spec.nodeName", podNodeName))
	}
	return opts
}

// key is the etcd key of one object.
func (r *resource) key(namespace, name string) string {
	if r.Namespaced {
		return r.prefix + namespace + "/" + name
	}
	return r.prefix + name
}

// listKey is the prefix listing a namespace, or everything when ns is "".
func (r *resource) listKey(namespace string) string {
	if r.Namespaced && namespace != "" {
		return r.prefix + namespace + "/"
	}
	return r.prefix
}

// lookup finds the served resource for a group, version and plural name.
func (s *Server) lookup(group, version, name string) *resource {
	return s.resources[group+"/"+version+"/"+name]
}

// Run starts the watch caches and the background work, and blocks until
// ctx ends. Ready is closed once every cache is filled and the built-in
// namespaces and the kubernetes Service exist.
func (s *Server) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(s.ordered))
	var wg sync.WaitGroup
	for _, r := range s.ordered {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.cache.Run(ctx); err != nil && ctx.Err() == nil {
				errs <- fmt.Errorf("watch cache %s: %w", r.GroupResource(), err)
			}
		}()
	}
	defer wg.Wait()
	for _, r := range s.ordered {
		select {
		case <-r.cache.Ready():
		case err := <-errs:
			return err
		case <-ctx.Done():
			return nil
		}
	}
	if err := s.bootstrap(ctx); err != nil {
		return err
	}
	s.readyOnce.Do(func() { close(s.ready) })
	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
		return nil
	}
}

// Ready is closed when the server can answer every request.
func (s *Server) Ready() <-chan struct{} { return s.ready }

func (s *Server) isReady() bool {
	select {
	case <-s.ready:
		return true
	default:
		return false
	}
}

// Handler returns the HTTP handler of the whole API: authentication,
// impersonation, authorization, body limits, then routing.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", s.serveHealth)
	mux.HandleFunc("/healthz/", s.serveHealth)
	mux.HandleFunc("/livez", s.serveHealth)
	mux.HandleFunc("/livez/", s.serveHealth)
	mux.HandleFunc("/readyz", s.serveHealth)
	mux.HandleFunc("/readyz/", s.serveHealth)
	mux.HandleFunc("/version", s.serveVersion)
	mux.Handle("/openapi/", s.openapi)
	mux.HandleFunc(satoken.OpenIDConfigPath, s.serveIssuerDiscovery("application/json", s.tokens.OpenIDConfig))
	mux.HandleFunc(satoken.JWKSPath, s.serveIssuerDiscovery("application/jwk-set+json", s.tokens.JWKS))
	mux.HandleFunc("/api", s.serveAPI)
	mux.HandleFunc("/api/", s.serveAPI)
	mux.HandleFunc("/apis", s.serveAPI)
	mux.HandleFunc("/apis/", s.serveAPI)
	mux.HandleFunc("/", s.serveNotFound)
	if s.cfg.Profiling {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	}
	return recoverPanics(s.authenticate(s.impersonate(s.authorize(limitBody(mux)))))
}

// recoverPanics turns a panic in a handler into a 500 Status and a log
// line instead of a dropped connection.
func recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				slog.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				writeRaw(w, http.StatusInternalServerError, apierrors.NewInternalError(fmt.Errorf("%v", v)))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func (s *Server) serveNotFound(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, errNotFoundPath(), schemaNone, "")
}

var schemaNone = schema.GroupResource{}

func isHealthPath(p string) bool {
	for _, h := range []string{"/healthz", "/livez", "/readyz"} {
		if p == h || strings.HasPrefix(p, h+"/") {
			return true
		}
	}
	return false
}
