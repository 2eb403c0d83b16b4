package openapi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	"google.golang.org/protobuf/proto"
)

func get(t *testing.T, h http.Handler, target string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestServeV2(t *testing.T) {
	b := testBuilder(t)
	want, _ := b.V2()
	etag, _ := b.V2Hash()

	resp := get(t, b, "/openapi/v2", "Accept", "application/json")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" || string(body) != string(want) {
		t.Errorf("JSON v2: status %d, type %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
	if got := resp.Header.Get("Etag"); got != strconv.Quote(etag) {
		t.Errorf("Etag = %s, want %q", got, etag)
	}
	if resp := get(t, b, "/openapi/v2", "Accept", "application/json", "If-None-Match", strconv.Quote(etag)); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", resp.StatusCode)
	}

	resp = get(t, b, "/openapi/v2", "Accept", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf")
	body, _ = io.ReadAll(resp.Body)
	var doc openapi_v2.Document
	if err := proto.Unmarshal(body, &doc); err != nil || doc.GetSwagger() != "2.0" {
		t.Errorf("protobuf v2: %v, swagger %q", err, doc.GetSwagger())
	}
	if resp := get(t, b, "/openapi/v2", "Accept", "text/html"); resp.StatusCode != http.StatusNotAcceptable {
		t.Errorf("text/html: status %d, want 406", resp.StatusCode)
	}
}

func TestServeV3(t *testing.T) {
	b := testBuilder(t)
	doc, etag, err := b.V3WithHash("apis/apps/v1")
	if err != nil {
		t.Fatal(err)
	}
	resp := get(t, b, "/openapi/v3/apis/apps/v1?hash="+etag, "Accept", "application/json")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != string(doc) {
		t.Errorf("current hash: status %d, %d bytes", resp.StatusCode, len(body))
	}
	if got := resp.Header.Get("Cache-Control"); got != "public, immutable" {
		t.Errorf("Cache-Control = %q", got)
	}
	resp = get(t, b, "/openapi/v3/apis/apps/v1?hash=0123", "Accept", "application/json")
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/openapi/v3/apis/apps/v1?hash="+etag {
		t.Errorf("stale hash: status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := get(t, b, "/openapi/v3/apis/nope/v1"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown group: status %d, want 404", resp.StatusCode)
	}
	if resp := get(t, b, "/openapi/v3/api/v1", "Accept", "application/com.github.proto-openapi.spec.v3@v1.0+protobuf"); resp.StatusCode != http.StatusNotAcceptable {
		t.Errorf("v3 protobuf: status %d, want 406", resp.StatusCode)
	}
	index, _ := b.V3Index()
	resp = get(t, b, "/openapi/v3")
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != string(index) {
		t.Errorf("index: status %d, body %s", resp.StatusCode, body)
	}
}

func TestNegotiate(t *testing.T) {
	for _, tc := range []struct{ accept, want string }{
		{"", mediaJSON},
		{"*/*", mediaJSON},
		{"application/com.github.proto-openapi.spec.v2@v1.0+protobuf", mediaV2Proto},
		{"application/json;q=0, application/com.github.proto-openapi.spec.v2@v1.0+protobuf", mediaV2Proto},
		{"text/plain", ""},
	} {
		if got := negotiate(tc.accept, mediaJSON, mediaV2Proto); got != tc.want {
			t.Errorf("negotiate(%q) = %q, want %q", tc.accept, got, tc.want)
		}
	}
}
