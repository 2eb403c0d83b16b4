package registry

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestServiceAccounts(t *testing.T) {
	r := coreResource(t, "serviceaccounts")
	sa := &corev1.ServiceAccount{ObjectMeta: objectMeta("builder"), Secrets: []corev1.ObjectReference{{Name: "t"}},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: ""}}}
	checkErrors(t, "pull secret name", createErrors(r, sa), []string{"imagePullSecrets[0].name: Required value: "})
	if diff := cmp.Diff([]string{"NAME", "SECRETS", "AGE"}, columnNames(r)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	checkRow(t, r, sa, []any{"builder", int64(1), "AGE"})
}
