package registry

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestLimitRangeDefaults(t *testing.T) {
	r := coreResource(t, "limitranges")
	lr := &corev1.LimitRange{ObjectMeta: objectMeta("limits"), Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
		Type: corev1.LimitTypeContainer,
		Max:  corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")},
		Min:  corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")},
	}}}}
	if errs := createErrors(r, lr); len(errs) != 0 {
		t.Fatalf("valid limit range rejected: %v", errs)
	}
	it := lr.Spec.Limits[0]
	if !equalResourceLists(it.Default, corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}) ||
		!equalResourceLists(it.DefaultRequest, corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("64Mi")}) {
		t.Errorf("defaults: default %v, defaultRequest %v", it.Default, it.DefaultRequest)
	}
}

func TestLimitRangeValidation(t *testing.T) {
	r := coreResource(t, "limitranges")
	lr := &corev1.LimitRange{ObjectMeta: objectMeta("limits"), Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{
		{Type: corev1.LimitTypePod, Default: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}},
		{Type: corev1.LimitTypeContainer,
			Min:                  corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")},
			Max:                  corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
			MaxLimitRequestRatio: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}},
		{Type: "Namespace"},
	}}}
	checkErrors(t, "limits", createErrors(r, lr), []string{
		"spec.limits[0].default: Forbidden: may not be specified when `type` is 'Pod'",
		"spec.limits[1].min[cpu]: Invalid value: min value 2 is greater than max value 1",
		"spec.limits[1].defaultRequest[cpu]: Invalid value: min value 2 is greater than default request value 1",
		"spec.limits[1].maxLimitRequestRatio[cpu]: Invalid value: ratio 500m is less than 1",
		`spec.limits[2].type: Unsupported value: supported values: "Container", "PersistentVolumeClaim", "Pod"`,
	})
}

func TestLimitRangeTable(t *testing.T) {
	r := coreResource(t, "limitranges")
	if diff := cmp.Diff([]string{"NAME", "CREATED AT"}, columnNames(r)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	created := time.Date(2026, 11, 20, 8, 30, 0, 0, time.UTC)
	lr := &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "limits", CreationTimestamp: metav1.NewTime(created)}}
	checkRow(t, r, lr, []any{"limits", "2026-11-20T08:30:00Z"})
}
