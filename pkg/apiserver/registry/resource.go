package registry

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Resource is what the API server needs to know to serve one resource.
// Hooks left nil are skipped. Generic rules (names, labels, annotations,
// uid, creationTimestamp, resourceVersion, generation, generateName,
// finalizers, immutability of metadata.name/namespace/uid) are applied by
// the API server for every resource; hooks add what is specific.
type Resource struct {
	// Group and Version the resource is served at; Name is the plural
	// lower-case resource name ("deployments").
	Group, Version, Name string
	Kind                 string
	Singular             string
	ShortNames           []string
	Categories           []string
	Namespaced           bool

	New     func() runtime.Object // empty typed object, e.g. &v1.Pod{}
	NewList func() runtime.Object // empty typed list, e.g. &v1.PodList{}

	// Status: the object has a status subresource. Updates through the
	// main resource keep the stored status; updates through /status keep
	// everything but status (and metadata labels/annotations/finalizers
	// may not change there either).
	Status bool
	// KeepStatusOnCreate: a create may set status (nodes register with
	// their status); otherwise status is cleared on create.
	KeepStatusOnCreate bool
	// Scale: the object has a scale subresource (autoscaling/v1 Scale).
	Scale *ScaleAccess
	// NoGeneration: metadata.generation is not maintained (e.g. events,
	// configmaps). When false the API server sets generation=1 on create
	// and bumps it when anything outside metadata and status changes.
	NoGeneration bool

	// ValidateName checks metadata.name (or generateName when prefix is
	// true) and returns messages. Nil means DNS-1123 subdomain.
	ValidateName func(name string, prefix bool) []string

	// Default fills defaults in place, on create and on update (as
	// Kubernetes defaults every decoded request body).
	Default func(obj runtime.Object)
	// PrepareForCreate clears or sets fields the client may not choose on
	// create (e.g. status). Runs after Default.
	PrepareForCreate func(obj runtime.Object)
	// PrepareForUpdate adjusts a spec update given the stored object.
	PrepareForUpdate func(obj, old runtime.Object)
	// PrepareForStatusUpdate adjusts a status update given the stored object.
	PrepareForStatusUpdate func(obj, old runtime.Object)
	// Validate checks a new object; ValidateUpdate checks an update
	// (including immutable fields); ValidateStatusUpdate checks /status.
	Validate             func(obj runtime.Object) field.ErrorList
	ValidateUpdate       func(obj, old runtime.Object) field.ErrorList
	ValidateStatusUpdate func(obj, old runtime.Object) field.ErrorList

	// Fields returns the resource-specific selectable fields (e.g.
	// spec.nodeName, status.phase). metadata.name and metadata.namespace
	// are added by the API server.
	Fields func(obj runtime.Object) fields.Set

	// Table describes `kubectl get` output. Nil gives the generic
	// NAME / AGE table.
	Table *Table

	// GracefulDeletion: deletes set deletionTimestamp and
	// deletionGracePeriodSeconds and keep the object until the grace
	// period is confirmed with a delete of grace 0 (pods). Returns the
	// grace period to apply given the stored object and the requested one.
	GracefulDeletion func(obj runtime.Object, requested *int64) int64
}

// GroupVersion returns the resource's group/version.
func (r *Resource) GroupVersion() schema.GroupVersion {
	return schema.GroupVersion{Group: r.Group, Version: r.Version}
}

// GroupVersionKind returns the resource's group/version/kind.
func (r *Resource) GroupVersionKind() schema.GroupVersionKind {
	return r.GroupVersion().WithKind(r.Kind)
}

// GroupResource returns the resource's group and plural name.
func (r *Resource) GroupResource() schema.GroupResource {
	return schema.GroupResource{Group: r.Group, Resource: r.Name}
}

// Table describes the server-side table rendering of a resource.
type Table struct {
	// Columns in order; the first is always Name (format "name").
	Columns []metav1.TableColumnDefinition
	// Row returns one cell per column for obj.
	Row func(obj runtime.Object) []any
}

// ScaleAccess reads and writes the replica count of a scalable object.
type ScaleAccess struct {
	// Replicas returns spec.replicas, status.replicas and the label
	// selector in string form (status.selector of the Scale).
	Get func(obj runtime.Object) (specReplicas, statusReplicas int32, selector string)
	// SetReplicas sets spec.replicas.
	SetReplicas func(obj runtime.Object, replicas int32)
}
