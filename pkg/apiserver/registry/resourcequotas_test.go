package registry

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestResourceQuotas(t *testing.T) {
	r := coreResource(t, "resourcequotas")
	q := &corev1.ResourceQuota{ObjectMeta: objectMeta("compute"), Spec: corev1.ResourceQuotaSpec{
		Hard:   corev1.ResourceList{"pods": resource.MustParse("10"), "limits.cpu": resource.MustParse("4"), "widgets": resource.MustParse("1")},
		Scopes: []corev1.ResourceQuotaScope{"Forever"},
	}, Status: corev1.ResourceQuotaStatus{Used: corev1.ResourceList{"pods": resource.MustParse("1")}}}
	checkErrors(t, "quota", createErrors(r, q), []string{
		"spec.hard[widgets]: Invalid value: must be a standard resource type or fully qualified",
		`spec.scopes[0]: Unsupported value: supported values: "BestEffort", "CrossNamespacePodAffinity", "NotBestEffort", "NotTerminating", "PriorityClass", "Terminating", "VolumeAttributesClass"`,
	})
	if len(q.Status.Used) != 0 {
		t.Errorf("status kept on create: %+v", q.Status)
	}

	if diff := cmp.Diff([]string{"NAME", "AGE", "REQUEST", "LIMIT"}, columnNames(r)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	q.Status = corev1.ResourceQuotaStatus{
		Hard: corev1.ResourceList{"pods": resource.MustParse("10"), "requests.cpu": resource.MustParse("2"), "limits.cpu": resource.MustParse("4")},
		Used: corev1.ResourceList{"pods": resource.MustParse("3"), "requests.cpu": resource.MustParse("500m")},
	}
	checkRow(t, r, q, []any{"compute", "AGE", "pods: 3/10, requests.cpu: 500m/2", "limits.cpu: 0/4"})
}
