package apiserver

import (
	"mime"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// outputKind is what shape the client asked an answer in.
type outputKind int

const (
	outJSON outputKind = iota
	outYAML
	outTable
	outPartial // PartialObjectMetadata(List)
	outProtobuf
)

// negotiate picks the answer shape from the Accept header: the first
// acceptable entry wins. Protobuf serves plain objects and watch streams
// (stream=watch); aggregated discovery entries are skipped, so clients
// that offer JSON as a fallback get JSON.
func negotiate(r *http.Request) (outputKind, error) {
	accept := r.Header.Get("Accept")
	if strings.TrimSpace(accept) == "" {
		return outJSON, nil
	}
	for _, entry := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(entry))
		if err != nil {
			continue
		}
		switch mt {
		case "application/json", "*/*", "application/*":
			switch params["as"] {
			case "":
				return outJSON, nil
			case "Table":
				if params["g"] == "meta.k8s.io" && (params["v"] == "v1" || params["v"] == "v1beta1") {
					return outTable, nil
				}
			case "PartialObjectMetadata", "PartialObjectMetadataList":
				if params["g"] == "meta.k8s.io" && (params["v"] == "v1" || params["v"] == "v1beta1") {
					return outPartial, nil
				}
			}
		case protobufType:
			if params["as"] == "" && (params["stream"] == "" || params["stream"] == "watch") {
				return outProtobuf, nil
			}
		case "application/yaml":
			if params["as"] == "" {
				return outYAML, nil
			}
		}
	}
	return outJSON, notAcceptable()
}

func notAcceptable() error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusNotAcceptable, Reason: metav1.StatusReasonNotAcceptable,
		Message: "only the following media types are accepted: application/json, application/yaml, " + protobufType + ", " +
			"application/json;as=Table;v=v1;g=meta.k8s.io, application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io",
	}}
}
