package apiserver

import (
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

var tableKind = metav1.SchemeGroupVersion.WithKind("Table")

var defaultColumns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string", Format: "name", Description: "Name must be unique within a namespace."},
	{Name: "Created At", Type: "date", Description: "CreationTimestamp is when the object was created."},
}

// tableOptions are the query parameters that shape a Table answer.
type tableOptions struct {
	includeObject metav1.IncludeObjectPolicy
	noColumns     bool // watch events after the first carry no columns
}

func tableOptionsFrom(r *http.Request) (tableOptions, error) {
	o := tableOptions{includeObject: metav1.IncludeMetadata}
	switch v := metav1.IncludeObjectPolicy(r.URL.Query().Get("includeObject")); v {
	case "":
	case metav1.IncludeNone, metav1.IncludeMetadata, metav1.IncludeObject:
		o.includeObject = v
	default:
		return o, apierrors.NewBadRequest("includeObject must be one of None, Metadata, Object")
	}
	return o, nil
}

// toTable renders objects as a server-side Table for `kubectl get`.
func (s *Server) toTable(r *resource, objs []runtime.Object, listMeta metav1.ListMeta, o tableOptions) *metav1.Table {
	t := &metav1.Table{ListMeta: listMeta}
	t.SetGroupVersionKind(tableKind)
	if !o.noColumns {
		t.ColumnDefinitions = defaultColumns
		if r.Table != nil {
			t.ColumnDefinitions = r.Table.Columns
		}
	}
	t.Rows = make([]metav1.TableRow, 0, len(objs))
	for _, obj := range objs {
		row := metav1.TableRow{}
		if r.Table != nil {
			row.Cells = r.Table.Row(obj)
		} else if m, err := meta.Accessor(obj); err == nil {
			row.Cells = []any{m.GetName(), m.GetCreationTimestamp().UTC().Format(time.RFC3339)}
		}
		switch o.includeObject {
		case metav1.IncludeObject:
			s.codecs.setKind(obj)
			row.Object.Object = obj
		case metav1.IncludeMetadata:
			row.Object.Object = partialMetadata(obj)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// partialMetadata is the PartialObjectMetadata view of an object.
func partialMetadata(obj runtime.Object) *metav1.PartialObjectMetadata {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil
	}
	p := &metav1.PartialObjectMetadata{}
	p.SetGroupVersionKind(metav1.SchemeGroupVersion.WithKind("PartialObjectMetadata"))
	if a, ok := obj.(metav1.ObjectMetaAccessor); ok {
		if om, ok := a.GetObjectMeta().(*metav1.ObjectMeta); ok {
			p.ObjectMeta = *om
			p.ManagedFields = nil
			return p
		}
	}
	{
		p.ObjectMeta = metav1.ObjectMeta{
			Name: m.GetName(), Namespace: m.GetNamespace(), UID: m.GetUID(),
			ResourceVersion: m.GetResourceVersion(), Generation: m.GetGeneration(),
			CreationTimestamp: m.GetCreationTimestamp(), DeletionTimestamp: m.GetDeletionTimestamp(),
			Labels: m.GetLabels(), Annotations: m.GetAnnotations(), OwnerReferences: m.GetOwnerReferences(),
			Finalizers: m.GetFinalizers(), GenerateName: m.GetGenerateName(),
		}
	}
	return p
}

// partialList is the PartialObjectMetadataList view of a list.
func partialList(objs []runtime.Object, listMeta metav1.ListMeta) *metav1.PartialObjectMetadataList {
	l := &metav1.PartialObjectMetadataList{ListMeta: listMeta}
	l.SetGroupVersionKind(metav1.SchemeGroupVersion.WithKind("PartialObjectMetadataList"))
	for _, o := range objs {
		if p := partialMetadata(o); p != nil {
			l.Items = append(l.Items, *p)
		}
	}
	return l
}
