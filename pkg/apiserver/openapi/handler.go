package openapi

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Media types of the v2 document in protobuf form; kubectl asks for the
// first.
const (
	mediaV2Proto          = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
	mediaV2ProtoCanonical = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
	mediaJSON             = "application/json"
	v3PathPrefix          = "/openapi/v3/"
	cacheControlImmutable = "public, immutable"
)

// ServeHTTP serves /openapi/v2 (JSON or protobuf by Accept),
// /openapi/v3 (the index) and /openapi/v3/<group version> (JSON), with
// ETags. A v3 request whose ?hash= is current is cacheable forever; a
// stale hash is redirected to the current URL, as Kubernetes does.
func (b *Builder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch {
	case r.URL.Path == "/openapi/v2":
		b.serveV2(w, r)
	case r.URL.Path == "/openapi/v3" || r.URL.Path == "/openapi/v3/":
		b.serve(w, r, mediaJSON, "", b.V3Index)
	case strings.HasPrefix(r.URL.Path, v3PathPrefix):
		b.serveV3(w, r, strings.TrimPrefix(r.URL.Path, v3PathPrefix))
	default:
		http.NotFound(w, r)
	}
}

func (b *Builder) serveV2(w http.ResponseWriter, r *http.Request) {
	etag, err := b.V2Hash()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Add("Vary", "Accept")
	switch negotiate(r.Header.Get("Accept"), mediaJSON, mediaV2Proto, mediaV2ProtoCanonical) {
	case mediaJSON:
		b.serve(w, r, mediaJSON, etag, b.V2)
	case mediaV2Proto, mediaV2ProtoCanonical:
		b.serve(w, r, mediaV2ProtoCanonical, etag, b.V2Proto)
	default:
		http.Error(w, "only application/json and "+mediaV2Proto+" are available", http.StatusNotAcceptable)
	}
}

func (b *Builder) serveV3(w http.ResponseWriter, r *http.Request, path string) {
	doc, etag, err := b.V3WithHash(path)
	switch {
	case errors.Is(err, ErrNotFound):
		http.NotFound(w, r)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Add("Vary", "Accept")
	if negotiate(r.Header.Get("Accept"), mediaJSON) == "" {
		http.Error(w, "only application/json is available", http.StatusNotAcceptable)
		return
	}
	if h := r.URL.Query().Get("hash"); h != "" {
		if h != etag {
			http.Redirect(w, r, v3PathPrefix+path+"?hash="+etag, http.StatusMovedPermanently)
			return
		}
		w.Header().Set("Cache-Control", cacheControlImmutable)
		w.Header().Set("Expires", time.Now().AddDate(1, 0, 0).UTC().Format(http.TimeFormat))
	}
	b.serve(w, r, mediaJSON, etag, func() ([]byte, error) { return doc, nil })
}

// serve writes a document; http.ServeContent answers If-None-Match.
func (b *Builder) serve(w http.ResponseWriter, r *http.Request, contentType, etag string, get func() ([]byte, error)) {
	data, err := get()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if etag == "" {
		etag = hash(data)
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Etag", strconv.Quote(etag))
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}

// negotiate returns the first offer the Accept header allows (an empty
// header allows anything), honouring q=0 as a refusal. Media types are
// compared literally: the protobuf type contains '@', which MIME parsers
// reject.
func negotiate(accept string, offers ...string) string {
	if strings.TrimSpace(accept) == "" {
		return offers[0]
	}
	for _, clause := range strings.Split(accept, ",") {
		parts := strings.Split(clause, ";")
		mt := strings.ToLower(strings.TrimSpace(parts[0]))
		refused := false
		for _, p := range parts[1:] {
			if k, v, _ := strings.Cut(strings.TrimSpace(p), "="); k == "q" && strings.Trim(v, "0.") == "" {
				refused = true
			}
		}
		if refused {
			continue
		}
		for _, o := range offers {
			if mt == o || mt == "*/*" || (strings.HasSuffix(mt, "/*") && strings.HasPrefix(o, strings.TrimSuffix(mt, "*"))) {
				return o
			}
		}
	}
	return ""
}
