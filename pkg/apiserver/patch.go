package apiserver

import (
	"encoding/json"
	"fmt"
	"net/http"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

// maxJSONPatchOperations bounds the work one JSON patch can ask for.
const maxJSONPatchOperations = 10000

var patchTypes = []string{
	string(types.JSONPatchType), string(types.MergePatchType), string(types.StrategicMergePatchType),
}

func (s *Server) patch(req *request, kind updateKind) error {
	out, err := negotiate(req.Request)
	if err != nil {
		return err
	}
	o, err := parseWriteOptions(req)
	if err != nil {
		return err
	}
	pt := types.PatchType(mediaType(req.Header.Get("Content-Type")))
	switch pt {
	case types.JSONPatchType, types.MergePatchType, types.StrategicMergePatchType:
	case types.ApplyYAMLPatchType, types.ApplyCBORPatchType:
		return &apierrors.StatusError{ErrStatus: metav1.Status{
			Status: metav1.StatusFailure, Code: http.StatusUnsupportedMediaType, Reason: metav1.StatusReasonUnsupportedMediaType,
			Message: "server-side apply is not supported by this server yet; use client-side apply (kubectl apply without --server-side)",
		}}
	default:
		return unsupportedMedia(string(pt), patchTypes...)
	}
	body, err := readBody(req.Request)
	if err != nil {
		return err
	}
	if err := checkPatchSyntax(pt, body); err != nil {
		return err
	}
	updated, err := s.updateObject(req.Context(), req.res, kind, req.info.Namespace, req.info.Name, o.dryRun,
		func(current runtime.Object) (runtime.Object, error) {
			patched, err := applyPatch(pt, body, current, req.res.New())
			if err != nil {
				return nil, err
			}
			return s.decodeChecked(req, o, "application/json", patched)
		})
	if err != nil {
		return err
	}
	return s.respond(req, http.StatusOK, updated, out)
}

// checkPatchSyntax rejects a patch that is not even well-formed (400)
// before any object is read.
func checkPatchSyntax(pt types.PatchType, body []byte) error {
	if len(body) == 0 {
		return apierrors.NewBadRequest("the patch is empty")
	}
	if pt == types.JSONPatchType {
		p, err := jsonpatch.DecodePatch(body)
		if err != nil {
			return apierrors.NewBadRequest(fmt.Sprintf("invalid JSON patch: %v", err))
		}
		if len(p) > maxJSONPatchOperations {
			return apierrors.NewRequestEntityTooLargeError(fmt.Sprintf(
				"the allowed maximum operations in a JSON patch is %d, got %d", maxJSONPatchOperations, len(p)))
		}
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return apierrors.NewBadRequest(fmt.Sprintf("invalid %s: %v", pt, err))
	}
	return nil
}

// applyPatch applies a patch to the JSON form of current. Failures to
// apply a well-formed patch are the client's: 422.
func applyPatch(pt types.PatchType, patch []byte, current, schemaObj runtime.Object) (out []byte, err error) {
	// The patch libraries panic on some malformed operations (a replace
	// without a value at the root, say): that is still the client's input.
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, patchFailed(fmt.Errorf("malformed patch: %v", r))
		}
	}()
	cur, err := json.Marshal(current)
	if err != nil {
		return nil, err
	}
	switch pt {
	case types.JSONPatchType:
		p, err := jsonpatch.DecodePatch(patch)
		if err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		out, err = p.Apply(cur)
		if err != nil {
			return nil, patchFailed(err)
		}
	case types.MergePatchType:
		out, err = jsonpatch.MergePatch(cur, patch)
		if err != nil {
			return nil, patchFailed(err)
		}
	case types.StrategicMergePatchType:
		out, err = strategicpatch.StrategicMergePatch(cur, patch, schemaObj)
		if err != nil {
			return nil, patchFailed(err)
		}
	}
	return out, nil
}

func patchFailed(err error) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusUnprocessableEntity, Reason: metav1.StatusReasonInvalid,
		Message: "the patch could not be applied: " + err.Error(),
	}}
}
