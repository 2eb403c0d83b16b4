package controller

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// StatusWrite says how to write one kind's status for UpdateStatus.
type StatusWrite[T any] struct {
	// Unchanged reports whether obj already carries the wanted status.
	Unchanged func(obj T) bool
	// With returns a copy of obj carrying the wanted status.
	With func(obj T) T
	// Update writes obj through the status subresource.
	Update func(ctx context.Context, obj T) error
	// Get reads the object afresh after a conflict.
	Get func(ctx context.Context) (T, error)
	// Current reports whether a fresh object is still at the generation
	// the wanted status was computed for.
	Current func(fresh T) bool
}

// UpdateStatus writes the wanted status when it changed. A conflict is
// retried once on a fresh read, unless the spec moved on meanwhile: the
// next sync computes a new status then. A vanished object is not an error.
func UpdateStatus[T any](ctx context.Context, what string, obj T, w StatusWrite[T]) error {
	for attempt := 0; ; attempt++ {
		if w.Unchanged(obj) {
			return nil
		}
		err := w.Update(ctx, w.With(obj))
		if err == nil || apierrors.IsNotFound(err) {
			return nil
		}
		if attempt > 0 || !apierrors.IsConflict(err) {
			return fmt.Errorf("update status of %s: %w", what, err)
		}
		fresh, gerr := w.Get(ctx)
		if gerr != nil {
			return fmt.Errorf("update status of %s: %w", what, gerr)
		}
		if !w.Current(fresh) {
			return nil
		}
		obj = fresh
	}
}
