package registry

import (
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
)

// noneCell is what `kubectl get` prints for an empty optional value.
const noneCell = "<none>"

// unknownCell is what `kubectl get` prints for a value nobody reported.
const unknownCell = "<unknown>"

// formatAge renders the time elapsed since t the way `kubectl get` does
// ("5m", "3d4h"); a zero time renders as "<unknown>".
func formatAge(t metav1.Time) string {
	if t.IsZero() {
		return unknownCell
	}
	return duration.HumanDuration(time.Since(t.Time))
}

// formatMicroAge is formatAge for MicroTime fields (events).
func formatMicroAge(t *metav1.MicroTime) string {
	if t == nil || t.IsZero() {
		return unknownCell
	}
	return duration.HumanDuration(time.Since(t.Time))
}

// orNone returns s, or "<none>" when s is empty.
func orNone(s string) string {
	if s == "" {
		return noneCell
	}
	return s
}

// joinOrNone joins values with "," and returns "<none>" for an empty list.
func joinOrNone(values []string) string {
	return orNone(strings.Join(values, ","))
}

// tableColumn builds a column definition. Priority 0 columns show in the
// default output, priority 1 only with `-o wide`.
func tableColumn(name, typ, description string, priority int32) metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: name, Type: typ, Description: description, Priority: priority}
}

// nameColumn is the first column of every table.
func nameColumn() metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{
		Name: "Name", Type: "string", Format: "name",
		Description: "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically.",
	}
}

// ageColumn is the AGE column found in most tables.
func ageColumn() metav1.TableColumnDefinition {
	return tableColumn("Age", "string", "CreationTimestamp is a timestamp representing the server time when this object was created.", 0)
}

// tableRow adapts a typed row function to Table.Row. Objects of another
// type render as an empty row.
func tableRow[T runtime.Object](row func(T) []any) func(runtime.Object) []any {
	return func(obj runtime.Object) []any {
		t, ok := obj.(T)
		if !ok {
			return nil
		}
		return row(t)
	}
}

// createdAtTable is the NAME / CREATED AT table Kubernetes prints for
// kinds without a printer of their own, roles among them.
func createdAtTable() *Table {
	return &Table{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			tableColumn("Created At", "date", metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"], 0),
		},
		Row: func(obj runtime.Object) []any {
			m, ok := obj.(metav1.Object)
			if !ok {
				return nil
			}
			return []any{m.GetName(), m.GetCreationTimestamp().UTC().Format(time.RFC3339)}
		},
	}
}
