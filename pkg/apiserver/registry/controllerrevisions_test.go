package registry

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

func testControllerRevision() *appsv1.ControllerRevision {
	r := &appsv1.ControllerRevision{
		ObjectMeta: objectMeta("agent-7c9d"),
		Data:       runtime.RawExtension{Raw: []byte(`{"spec":{}}`)},
		Revision:   2,
	}
	r.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "agent", UID: "u", Controller: ptr.To(true)}}
	return r
}

func TestControllerRevision(t *testing.T) {
	r := groupResource(t, "controllerrevisions")
	checkErrors(t, "valid", createErrors(r, testControllerRevision()), nil)
	checkErrors(t, "no data", createErrors(r, mutated(testControllerRevision(), func(c *appsv1.ControllerRevision) {
		c.Data = runtime.RawExtension{}
		c.Revision = -1
	})), []string{"data: Required value: data is mandatory", "revision: Invalid value: must be greater than or equal to 0"})

	old := testControllerRevision()
	checkErrors(t, "revision bump", updateErrors(r, mutated(old, func(c *appsv1.ControllerRevision) { c.Revision = 3 }), old.DeepCopy()), nil)
	checkErrors(t, "data change", updateErrors(r, mutated(old, func(c *appsv1.ControllerRevision) {
		c.Data = runtime.RawExtension{Raw: []byte(`{"spec":{"x":1}}`)}
	}), old.DeepCopy()), []string{"data: Invalid value: field is immutable"})

	if diff := cmp.Diff([]string{"NAME", "CONTROLLER", "REVISION", "AGE"}, columnNames(r)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	checkRow(t, r, testControllerRevision(), []any{"agent-7c9d", "daemonset.apps/agent", int64(2), "AGE"})
	orphan := testControllerRevision()
	orphan.OwnerReferences = nil
	checkRow(t, r, orphan, []any{"agent-7c9d", "<none>", int64(2), "AGE"})
}
