package registry

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Controller revisions are written by the daemonset and statefulset
// controllers: an immutable snapshot (data) plus its revision number.
func controllerRevisionsResource() *Resource {
	return &Resource{
		Group: "apps", Version: "v1", Name: "controllerrevisions", Kind: "ControllerRevision", Singular: "controllerrevision",
		Namespaced:   true,
		New:          func() runtime.Object { return &appsv1.ControllerRevision{} },
		NewList:      func() runtime.Object { return &appsv1.ControllerRevisionList{} },
		NoGeneration: true,
		Validate:     typedValidate(validateControllerRevision),
		ValidateUpdate: typedValidateUpdate(func(r, old *appsv1.ControllerRevision) field.ErrorList {
			errs := validateControllerRevision(r)
			return append(errs, validateImmutable(r.Data, old.Data, field.NewPath("data"))...)
		}),
		Table: controllerRevisionsTable(),
	}
}

func validateControllerRevision(r *appsv1.ControllerRevision) field.ErrorList {
	var errs field.ErrorList
	if r.Data.Raw == nil && r.Data.Object == nil {
		errs = append(errs, field.Required(field.NewPath("data"), "data is mandatory"))
	}
	return append(errs, validateNonnegative(r.Revision, field.NewPath("revision"))...)
}

func controllerRevisionsTable() *Table {
	return &Table{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			tableColumn("Controller", "string", "Controller of the object", 0),
			tableColumn("Revision", "string", appsv1.ControllerRevision{}.SwaggerDoc()["revision"], 0),
			ageColumn(),
		},
		Row: tableRow(func(r *appsv1.ControllerRevision) []any {
			return []any{r.Name, controllerName(r), r.Revision, formatAge(r.CreationTimestamp)}
		}),
	}
}

// controllerName renders the controller owner as "kind.group/name"
// (for example "daemonset.apps/agent"), or "<none>".
func controllerName(obj metav1.Object) string {
	ref := metav1.GetControllerOfNoCopy(obj)
	if ref == nil {
		return noneCell
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return ref.Name
	}
	gk := schema.GroupKind{Group: gv.Group, Kind: ref.Kind}
	if gk.Empty() {
		return ref.Name
	}
	return strings.ToLower(gk.String()) + "/" + ref.Name
}
