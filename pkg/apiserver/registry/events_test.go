package registry

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func testEvent() *corev1.Event {
	return &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: "web.1", Namespace: "default"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web", UID: "u1",
			APIVersion: "v1", ResourceVersion: "42", FieldPath: "spec.containers{web}"},
		Reason: "Pulled", Message: "Successfully pulled image\n", Type: corev1.EventTypeNormal,
		Source:         corev1.EventSource{Component: "kubelet", Host: "node-1"},
		FirstTimestamp: metav1.NewTime(time.Now().Add(-10 * time.Minute)),
		LastTimestamp:  metav1.NewTime(time.Now().Add(-2 * time.Minute)),
		Count:          3,
	}
}

func TestEventValidation(t *testing.T) {
	r := coreResource(t, "events")
	tests := []struct {
		name   string
		mutate func(*corev1.Event)
		want   []string
	}{
		{"valid", func(*corev1.Event) {}, nil},
		{"namespace mismatch", func(e *corev1.Event) { e.InvolvedObject.Namespace = "other" },
			[]string{"involvedObject.namespace: Invalid value: does not match event.namespace"}},
		{"cluster object in default", func(e *corev1.Event) { e.InvolvedObject = corev1.ObjectReference{Kind: "Node", Name: "node-1"} }, nil},
		{"cluster object elsewhere", func(e *corev1.Event) {
			e.Namespace = "team-a"
			e.InvolvedObject = corev1.ObjectReference{Kind: "Node", Name: "node-1"}
		}, []string{"involvedObject.namespace: Invalid value: does not match event.namespace"}},
		{"new style needs reporting fields", func(e *corev1.Event) {
			e.EventTime = metav1.NowMicro()
			e.Type = "Info"
		}, []string{
			"reportingController: Required value: ",
			"reportingInstance: Required value: ",
			"action: Required value: ",
			`type: Unsupported value: supported values: "Normal", "Warning"`,
		}},
	}
	for _, tt := range tests {
		ev := testEvent()
		tt.mutate(ev)
		checkErrors(t, tt.name, createErrors(r, ev), tt.want)
	}
}

func TestEventTableAndFields(t *testing.T) {
	r := coreResource(t, "events")
	want := []string{"LAST SEEN", "TYPE", "REASON", "OBJECT", "SUBOBJECT*", "SOURCE*", "MESSAGE", "FIRST SEEN*", "COUNT*", "NAME*"}
	if diff := cmp.Diff(want, columnNames(r)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	ev := testEvent()
	checkRow(t, r, ev, []any{"2m", "Normal", "Pulled", "pod/web", "spec.containers{web}", "kubelet, node-1",
		"Successfully pulled image", "10m", int64(3), "web.1"})

	series := mutated(ev, func(e *corev1.Event) {
		e.FirstTimestamp, e.LastTimestamp, e.Source = metav1.Time{}, metav1.Time{}, corev1.EventSource{}
		e.EventTime = metav1.NewMicroTime(time.Now().Add(-time.Hour))
		e.ReportingController, e.ReportingInstance = "tug-scheduler", "server-1"
		e.Series = &corev1.EventSeries{Count: 7, LastObservedTime: metav1.NewMicroTime(time.Now().Add(-30 * time.Second))}
	})
	checkRow(t, r, series, []any{"30s", "Normal", "Pulled", "pod/web", "spec.containers{web}", "tug-scheduler, server-1",
		"Successfully pulled image", "60m", int64(7), "web.1"})

	wantFields := map[string]string{
		"involvedObject.kind": "Pod", "involvedObject.namespace": "default", "involvedObject.name": "web",
		"involvedObject.uid": "u1", "involvedObject.apiVersion": "v1", "involvedObject.resourceVersion": "42",
		"involvedObject.fieldPath": "spec.containers{web}", "reason": "Pulled", "reportingComponent": "",
		"source": "kubelet", "type": "Normal",
	}
	if diff := cmp.Diff(wantFields, map[string]string(r.Fields(ev))); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}
