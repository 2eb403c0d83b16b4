package registry

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func eventsResource() *Resource {
	return &Resource{
		Version: "v1", Name: "events", Singular: "event", Kind: "Event",
		ShortNames: []string{"ev"}, Namespaced: true,
		New:          func() runtime.Object { return &corev1.Event{} },
		NewList:      func() runtime.Object { return &corev1.EventList{} },
		NoGeneration: true,

		Validate:       typedValidate(validateEvent),
		ValidateUpdate: typedValidateUpdate(func(ev, _ *corev1.Event) field.ErrorList { return validateEvent(ev) }),
		Fields:         typedFields(eventFields),
		Table:          eventTable(),
	}
}

// validateEvent follows Kubernetes' two rule sets: events without
// eventTime (the older recorders) only need their namespace to match the
// involved object's; events with eventTime need the reporting fields.
func validateEvent(ev *corev1.Event) field.ErrorList {
	var errs field.ErrorList
	nsPath := field.NewPath("involvedObject", "namespace")
	if ev.EventTime.IsZero() {
		if ev.InvolvedObject.Namespace == "" {
			// Events about cluster-scoped objects live in "default".
			if ev.Namespace != metav1.NamespaceNone && ev.Namespace != metav1.NamespaceDefault {
				errs = append(errs, field.Invalid(nsPath, ev.InvolvedObject.Namespace, "does not match event.namespace"))
			}
		} else if ev.Namespace != ev.InvolvedObject.Namespace {
			errs = append(errs, field.Invalid(nsPath, ev.InvolvedObject.Namespace, "does not match event.namespace"))
		}
	} else {
		if ev.InvolvedObject.Namespace != "" && ev.Namespace != ev.InvolvedObject.Namespace {
			errs = append(errs, field.Invalid(nsPath, ev.InvolvedObject.Namespace, "does not match event.namespace"))
		}
		if ev.ReportingController == "" {
			errs = append(errs, field.Required(field.NewPath("reportingController"), ""))
		}
		if ev.ReportingInstance == "" {
			errs = append(errs, field.Required(field.NewPath("reportingInstance"), ""))
		}
		if ev.Action == "" {
			errs = append(errs, field.Required(field.NewPath("action"), ""))
		}
		if ev.Reason == "" {
			errs = append(errs, field.Required(field.NewPath("reason"), ""))
		}
		errs = append(errs, validateEnum(ev.Type, field.NewPath("type"), corev1.EventTypeNormal, corev1.EventTypeWarning)...)
	}
	if len(ev.ReportingController) > 128 {
		errs = append(errs, field.TooLong(field.NewPath("reportingController"), "", 128))
	}
	if len(ev.ReportingInstance) > 128 {
		errs = append(errs, field.TooLong(field.NewPath("reportingInstance"), "", 128))
	}
	if len(ev.Action) > 128 {
		errs = append(errs, field.TooLong(field.NewPath("action"), "", 128))
	}
	if len(ev.Reason) > 128 {
		errs = append(errs, field.TooLong(field.NewPath("reason"), "", 128))
	}
	if len(ev.Message) > 4096 {
		errs = append(errs, field.TooLong(field.NewPath("message"), "", 4096))
	}
	return errs
}

func eventFields(ev *corev1.Event) fields.Set {
	o := ev.InvolvedObject
	return fields.Set{
		"involvedObject.kind":            o.Kind,
		"involvedObject.namespace":       o.Namespace,
		"involvedObject.name":            o.Name,
		"involvedObject.uid":             string(o.UID),
		"involvedObject.apiVersion":      o.APIVersion,
		"involvedObject.resourceVersion": o.ResourceVersion,
		"involvedObject.fieldPath":       o.FieldPath,
		"reason":                         ev.Reason,
		"reportingComponent":             ev.ReportingController,
		"source":                         ev.Source.Component,
		"type":                           ev.Type,
	}
}

// eventTable has the columns of `kubectl get events`; the name is a wide
// column at the end, as in Kubernetes.
func eventTable() *Table {
	name := nameColumn()
	name.Priority = 1
	return &Table{
		Columns: []metav1.TableColumnDefinition{
			tableColumn("Last Seen", "string", "The time at which the most recent occurrence of this event was recorded.", 0),
			tableColumn("Type", "string", "Type of this event (Normal, Warning), new types could be added in the future.", 0),
			tableColumn("Reason", "string", "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.", 0),
			tableColumn("Object", "string", "The object that this event is about.", 0),
			tableColumn("Subobject", "string", "The subobject (e.g. a container) that this event is about.", 1),
			tableColumn("Source", "string", "The component reporting this event.", 1),
			tableColumn("Message", "string", "A human-readable description of the status of this operation.", 0),
			tableColumn("First Seen", "string", "The time at which the event was first recorded.", 1),
			tableColumn("Count", "string", "The number of times this event has occurred.", 1),
			name,
		},
		Row: tableRow(eventRow),
	}
}

func eventRow(ev *corev1.Event) []any {
	first := formatAge(ev.FirstTimestamp)
	if ev.FirstTimestamp.IsZero() {
		first = formatMicroAge(&ev.EventTime)
	}
	last := formatAge(ev.LastTimestamp)
	switch {
	case ev.Series != nil:
		last = formatMicroAge(&ev.Series.LastObservedTime)
	case ev.LastTimestamp.IsZero():
		last = formatMicroAge(&ev.EventTime)
	}
	count := ev.Count
	if ev.Series != nil {
		count = ev.Series.Count
	}
	return []any{
		last,
		ev.Type,
		ev.Reason,
		strings.ToLower(ev.InvolvedObject.Kind) + "/" + ev.InvolvedObject.Name,
		ev.InvolvedObject.FieldPath,
		eventSource(ev),
		strings.TrimSpace(ev.Message),
		first,
		int64(count),
		ev.Name,
	}
}

// eventSource renders "component, host", falling back to the reporting
// controller and instance of newer events.
func eventSource(ev *corev1.Event) string {
	component, host := ev.Source.Component, ev.Source.Host
	if component == "" {
		component = ev.ReportingController
	}
	if host == "" {
		host = ev.ReportingInstance
	}
	if host == "" {
		return component
	}
	return component + ", " + host
}
