package apiserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	jsonserializer "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"sigs.k8s.io/yaml"
)

// maxBodyBytes is the largest request body accepted, as in Kubernetes.
const maxBodyBytes = 3 * 1024 * 1024

// codecs decodes request bodies (JSON or YAML, always strictly so unknown
// and duplicate fields are found and reported as fieldValidation asks).
type codecs struct {
	scheme     *runtime.Scheme
	strictJSON *jsonserializer.Serializer
	strictYAML *jsonserializer.Serializer
	proto      *protobuf.Serializer
}

const protobufType = "application/vnd.kubernetes.protobuf"

func newCodecs(scheme *runtime.Scheme) codecs {
	opts := jsonserializer.SerializerOptions{Strict: true}
	yopts := jsonserializer.SerializerOptions{Strict: true, Yaml: true}
	return codecs{
		scheme:     scheme,
		strictJSON: jsonserializer.NewSerializerWithOptions(jsonserializer.DefaultMetaFactory, scheme, scheme, opts),
		strictYAML: jsonserializer.NewSerializerWithOptions(jsonserializer.DefaultMetaFactory, scheme, scheme, yopts),
		proto:      protobuf.NewSerializer(scheme, scheme),
	}
}

// limitBody caps every request body at maxBodyBytes.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBodyBytes {
			writeRaw(w, http.StatusRequestEntityTooLarge, tooLarge())
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

func tooLarge() *apierrors.StatusError {
	return apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d", maxBodyBytes))
}

// readBody reads the request body, turning an oversized body into 413.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	data, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, tooLarge()
	}
	if err != nil {
		return nil, badRequest("reading request body: %v", err)
	}
	return data, nil
}

// mediaType returns the bare media type of a Content-Type header.
func mediaType(header string) string {
	mt, _, err := mime.ParseMediaType(header)
	if err != nil {
		return strings.TrimSpace(strings.SplitN(header, ";", 2)[0])
	}
	return mt
}

// decodeResult is a decoded body plus the unknown/duplicate field notes.
type decodeResult struct {
	obj      runtime.Object
	gvk      *schema.GroupVersionKind
	warnings []string
}

// decode reads body as the given content type into a new object of the
// expected kind. Unknown fields are returned as warnings; the caller
// decides from fieldValidation whether they are errors.
func (c codecs) decode(contentType string, body []byte, want schema.GroupVersionKind, into runtime.Object) (decodeResult, error) {
	var ser runtime.Decoder
	switch mediaType(contentType) {
	case "", "application/json", "*/*":
		ser = c.strictJSON
	case "application/yaml", "application/x-yaml", "text/yaml":
		ser = c.strictYAML
	case protobufType:
		ser = c.proto
	default:
		return decodeResult{}, unsupportedMedia(contentType, "application/json", "application/yaml", protobufType)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return decodeResult{}, badRequest("request body is empty; an object is required")
	}
	obj, gvk, err := ser.Decode(body, &want, into)
	var res decodeResult
	if err != nil {
		if !runtime.IsStrictDecodingError(err) {
			return res, cannotBeHandled(gvk, want, err, body)
		}
		if sde, ok := runtime.AsStrictDecodingError(err); ok {
			for _, e := range sde.Errors() {
				res.warnings = append(res.warnings, e.Error())
			}
		}
	}
	if gvk != nil && (gvk.Group != want.Group || gvk.Version != want.Version) {
		return res, badRequest("the API version in the data (%s) does not match the expected API version (%s)",
			gvk.GroupVersion(), want.GroupVersion())
	}
	if gvk != nil && gvk.Kind != want.Kind {
		return res, badRequest("the kind in the data (%s) does not match the expected kind (%s)", gvk.Kind, want.Kind)
	}
	res.obj, res.gvk = obj, gvk
	return res, nil
}

// decodeOptions decodes an options body (DeleteOptions and the like),
// which clients send under any group version.
func (c codecs) decodeOptions(contentType string, body []byte, into runtime.Object) error {
	switch mediaType(contentType) {
	case protobufType:
		if _, _, err := c.proto.Decode(body, nil, into); err != nil {
			return badRequest("the body of the request could not be decoded: %s", decodeMessage(err))
		}
	case "application/yaml", "application/x-yaml", "text/yaml":
		if err := yaml.Unmarshal(body, into); err != nil {
			return badRequest("the body of the request could not be decoded: %s", decodeMessage(err))
		}
	default:
		if err := json.Unmarshal(body, into); err != nil {
			return badRequest("the body of the request could not be decoded: %s", decodeMessage(err))
		}
	}
	return nil
}

// cannotBeHandled is the 400 for a body that is not a valid object of the
// expected kind, worded as Kubernetes words it: it names the kind the body
// claimed, or quotes the start of a body that claimed none.
func cannotBeHandled(got *schema.GroupVersionKind, want schema.GroupVersionKind, err error, body []byte) error {
	if got != nil && got.Kind != "" {
		return badRequest("%s in version %q cannot be handled as a %s: %s", got.Kind, got.Version, want.Kind, decodeMessage(err))
	}
	return badRequest("the object provided is unrecognized (must be of type %s): %s (%s)", want.Kind, decodeMessage(err), bodySummary(body))
}

// bodySummary quotes the start of a request body for an error message.
func bodySummary(body []byte) string {
	const maxLen = 30
	switch {
	case len(body) == 0:
		return "<empty>"
	case len(body) > maxLen:
		return strings.ToValidUTF8(string(body[:maxLen]), "?") + " ..."
	}
	return strings.ToValidUTF8(string(body), "?")
}

func decodeMessage(err error) string {
	msg := err.Error()
	if len(msg) > 500 {
		msg = msg[:500] + "..."
	}
	return msg
}

func unsupportedMedia(got string, supported ...string) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusUnsupportedMediaType, Reason: metav1.StatusReasonUnsupportedMediaType,
		Message: fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: %s (got %q)",
			strings.Join(supported, ", "), got),
	}}
}

// setKind fills apiVersion and kind from the scheme, as responses carry them.
func (c codecs) setKind(obj runtime.Object) {
	if !obj.GetObjectKind().GroupVersionKind().Empty() {
		return
	}
	gvks, _, err := c.scheme.ObjectKinds(obj)
	if err == nil && len(gvks) > 0 {
		obj.GetObjectKind().SetGroupVersionKind(gvks[0])
	}
}

// writeJSON answers with obj as JSON (apiVersion/kind filled in).
func (s *Server) writeJSON(w http.ResponseWriter, code int, obj any) {
	if ro, ok := obj.(runtime.Object); ok {
		s.codecs.setKind(ro)
	}
	writeRaw(w, code, obj)
}

func writeRaw(w http.ResponseWriter, code int, obj any) {
	if se, ok := obj.(*apierrors.StatusError); ok {
		st := se.ErrStatus
		st.Kind, st.APIVersion = "Status", "v1"
		obj = &st
	}
	data, err := json.Marshal(obj)
	if err != nil {
		code = http.StatusInternalServerError
		data = []byte(fmt.Sprintf(`{"kind":"Status","apiVersion":"v1","status":"Failure","message":%q,"code":500}`, err.Error()))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(data)
	_, _ = w.Write([]byte("\n"))
}

// writeProtobuf answers with obj in Kubernetes' protobuf envelope.
func (s *Server) writeProtobuf(w http.ResponseWriter, code int, obj runtime.Object) {
	s.codecs.setKind(obj)
	var buf bytes.Buffer
	if err := s.codecs.proto.Encode(obj, &buf); err != nil {
		// Kinds without a protobuf form (none served today) fall back to JSON.
		s.writeJSON(w, code, obj)
		return
	}
	w.Header().Set("Content-Type", protobufType)
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// writeObject answers with obj in the negotiated encoding.
func (s *Server) writeObject(w http.ResponseWriter, code int, obj runtime.Object, out outputKind) {
	switch out {
	case outYAML:
		s.writeYAML(w, code, obj)
	case outProtobuf:
		s.writeProtobuf(w, code, obj)
	default:
		s.writeJSON(w, code, obj)
	}
}

// writeYAML answers with obj as YAML (for clients that only accept YAML).
func (s *Server) writeYAML(w http.ResponseWriter, code int, obj runtime.Object) {
	s.codecs.setKind(obj)
	data, err := yaml.Marshal(obj)
	if err != nil {
		s.writeJSON(w, http.StatusInternalServerError, apierrors.NewInternalError(err))
		return
	}
	w.Header().Set("Content-Type", "application/yaml")
	w.WriteHeader(code)
	_, _ = w.Write(data)
}
