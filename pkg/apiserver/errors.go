package apiserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugcluster/tug/pkg/storage"
)

// toStatus turns any error met while serving a request into the Status
// the client sees. It is the only place where errors become HTTP codes.
// gr and name describe the object the request was about, for messages.
func toStatus(err error, gr schema.GroupResource, name string) *metav1.Status {
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		s := se.Status()
		return &s
	}
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return statusOf(apierrors.NewNotFound(gr, name))
	case errors.Is(err, storage.ErrExists):
		return statusOf(apierrors.NewAlreadyExists(gr, name))
	case errors.Is(err, storage.ErrConflict):
		return statusOf(apierrors.NewConflict(gr, name, errors.New(conflictMessage)))
	case errors.Is(err, storage.ErrGone):
		return statusOf(apierrors.NewResourceExpired(err.Error()))
	case errors.Is(err, storage.ErrInvalidContinue):
		return statusOf(apierrors.NewBadRequest(err.Error()))
	case errors.Is(err, storage.ErrTooLarge):
		return statusOf(apierrors.NewTimeoutError(err.Error(), 1))
	case errors.Is(err, context.DeadlineExceeded):
		return statusOf(apierrors.NewTimeoutError("request did not complete within the allowed duration", 0))
	case errors.Is(err, context.Canceled):
		return statusOf(apierrors.NewTimeoutError("request was cancelled", 0))
	}
	return statusOf(apierrors.NewInternalError(err))
}

const conflictMessage = "the object has been modified; please apply your changes to the latest version and try again"

func statusOf(err *apierrors.StatusError) *metav1.Status { return &err.ErrStatus }

// writeError answers a failed request with a Status object.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error, gr schema.GroupResource, name string) {
	st := toStatus(err, gr, name)
	if st.Code == 0 {
		st.Code = http.StatusInternalServerError
	}
	if st.Code >= 500 && st.Reason != metav1.StatusReasonTimeout {
		slog.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	st.Kind, st.APIVersion = "Status", "v1"
	st.Status = metav1.StatusFailure
	s.writeJSON(w, int(st.Code), st)
}

// badRequest is a shorthand for a 400 with a formatted message.
func badRequest(format string, args ...any) error {
	return apierrors.NewBadRequest(fmt.Sprintf(format, args...))
}

// isNotFound matches both storage and API not-found errors.
func isNotFound(err error) bool {
	return errors.Is(err, storage.ErrNotFound) || apierrors.IsNotFound(err)
}
