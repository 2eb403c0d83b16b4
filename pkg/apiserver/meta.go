package apiserver

import (
	"reflect"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// prepareCreate applies the metadata rules every created object follows,
// then the resource's defaults and create preparation.
func prepareCreate(r *resource, obj runtime.Object, now time.Time) error {
	m, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	if m.GetName() == "" && m.GetGenerateName() != "" {
		m.SetName(generateName(m.GetGenerateName()))
	}
	m.SetUID(uuid.NewUUID())
	m.SetCreationTimestamp(metav1.NewTime(now.Truncate(time.Second)))
	m.SetResourceVersion("")
	m.SetDeletionTimestamp(nil)
	m.SetDeletionGracePeriodSeconds(nil)
	m.SetSelfLink("")
	m.SetManagedFields(nil)
	if r.NoGeneration {
		m.SetGeneration(0)
	} else {
		m.SetGeneration(1)
	}
	if r.Status && !r.KeepStatusOnCreate {
		clearStatus(obj)
	}
	if r.Default != nil {
		r.Default(obj)
	}
	if r.PrepareForCreate != nil {
		r.PrepareForCreate(obj)
	}
	return nil
}

// generateName appends five random characters, as Kubernetes does.
func generateName(prefix string) string {
	const maxNameLength, randomLength = 63, 5
	if len(prefix) > maxNameLength-randomLength {
		prefix = prefix[:maxNameLength-randomLength]
	}
	return prefix + utilrand.String(randomLength)
}

// validateCreate runs the generic metadata checks and the resource's own.
func validateCreate(r *resource, obj runtime.Object) field.ErrorList {
	m, _ := meta.Accessor(obj)
	errs := apivalidation.ValidateObjectMetaAccessor(m, r.Namespaced, nameValidator(r), field.NewPath("metadata"))
	if r.Validate != nil {
		errs = append(errs, r.Validate(obj)...)
	}
	return dedupe(errs)
}

func nameValidator(r *resource) apivalidation.ValidateNameFunc {
	if r.ValidateName != nil {
		return r.ValidateName
	}
	return apivalidation.NameIsDNSSubdomain
}

// updateKind says whether an update goes through the main resource or
// through the status subresource.
type updateKind int

const (
	updateMain updateKind = iota
	updateStatus
)

// prepareUpdate merges what the client may not change from the stored
// object into obj: identity, deletion fields, and status (main) or
// everything but status (status subresource).
func prepareUpdate(r *resource, kind updateKind, obj, old runtime.Object) (runtime.Object, error) {
	if kind == updateStatus {
		merged := old.DeepCopyObject()
		copyStatus(merged, obj)
		nm, _ := meta.Accessor(merged)
		om, _ := meta.Accessor(obj)
		nm.SetResourceVersion(om.GetResourceVersion())
		if r.PrepareForStatusUpdate != nil {
			r.PrepareForStatusUpdate(merged, old)
		}
		return merged, nil
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	om, _ := meta.Accessor(old)
	if m.GetUID() == "" {
		m.SetUID(om.GetUID())
	}
	m.SetCreationTimestamp(om.GetCreationTimestamp())
	m.SetDeletionTimestamp(om.GetDeletionTimestamp())
	m.SetDeletionGracePeriodSeconds(om.GetDeletionGracePeriodSeconds())
	m.SetGeneration(om.GetGeneration())
	m.SetSelfLink("")
	m.SetManagedFields(nil)
	if m.GetGenerateName() == "" {
		m.SetGenerateName(om.GetGenerateName())
	}
	if r.Status {
		copyStatus(obj, old)
	}
	if r.Default != nil {
		r.Default(obj)
	}
	if r.PrepareForUpdate != nil {
		r.PrepareForUpdate(obj, old)
	}
	if !r.NoGeneration && specChanged(obj, old) {
		m.SetGeneration(om.GetGeneration() + 1)
	}
	return obj, nil
}

// validateUpdate runs the generic metadata update checks and the
// resource's own for the kind of update.
func validateUpdate(r *resource, kind updateKind, obj, old runtime.Object) field.ErrorList {
	m, _ := meta.Accessor(obj)
	om, _ := meta.Accessor(old)
	errs := apivalidation.ValidateObjectMetaAccessor(m, r.Namespaced, nameValidator(r), field.NewPath("metadata"))
	errs = append(errs, apivalidation.ValidateObjectMetaAccessorUpdate(m, om, field.NewPath("metadata"))...)
	if om.GetDeletionTimestamp() != nil && addsFinalizer(m.GetFinalizers(), om.GetFinalizers()) {
		errs = append(errs, field.Forbidden(field.NewPath("metadata", "finalizers"),
			"no new finalizers can be added if the object is being deleted"))
	}
	switch kind {
	case updateStatus:
		if r.ValidateStatusUpdate != nil {
			errs = append(errs, r.ValidateStatusUpdate(obj, old)...)
		}
	default:
		if r.Validate != nil {
			errs = append(errs, r.Validate(obj)...)
		}
		if r.ValidateUpdate != nil {
			errs = append(errs, r.ValidateUpdate(obj, old)...)
		}
	}
	return dedupe(errs)
}

func addsFinalizer(now, before []string) bool {
	had := map[string]bool{}
	for _, f := range before {
		had[f] = true
	}
	for _, f := range now {
		if !had[f] {
			return true
		}
	}
	return false
}

func dedupe(errs field.ErrorList) field.ErrorList {
	seen := map[string]bool{}
	out := errs[:0]
	for _, e := range errs {
		if k := e.Error(); !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

// statusField returns the addressable Status field of a typed object.
func statusField(obj runtime.Object) (reflect.Value, bool) {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	f := v.Elem().FieldByName("Status")
	return f, f.IsValid() && f.CanSet()
}

func clearStatus(obj runtime.Object) {
	if f, ok := statusField(obj); ok {
		f.Set(reflect.Zero(f.Type()))
	}
}

// copyStatus sets dst's status to a copy of src's.
func copyStatus(dst, src runtime.Object) {
	df, ok1 := statusField(dst)
	sf, ok2 := statusField(src.DeepCopyObject())
	if ok1 && ok2 && df.Type() == sf.Type() {
		df.Set(sf)
	}
}

// specChanged reports whether anything outside metadata and status differs.
func specChanged(obj, old runtime.Object) bool {
	a, b := obj.DeepCopyObject(), old.DeepCopyObject()
	for _, o := range []runtime.Object{a, b} {
		clearStatus(o)
		if v := reflect.ValueOf(o).Elem().FieldByName("ObjectMeta"); v.IsValid() && v.CanSet() {
			v.Set(reflect.Zero(v.Type()))
		}
		if v := reflect.ValueOf(o).Elem().FieldByName("TypeMeta"); v.IsValid() && v.CanSet() {
			v.Set(reflect.Zero(v.Type()))
		}
	}
	return !equality.Semantic.DeepEqual(a, b)
}

// uidOf returns an object's UID.
func uidOf(obj runtime.Object) types.UID {
	m, err := meta.Accessor(obj)
	if err != nil {
		return ""
	}
	return m.GetUID()
}
