package namespace

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestConditionsForRemainingContent(t *testing.T) {
	r := &report{
		contentErr: errors.New("failed to delete all resource types, 1 remaining: secrets: boom"),
		remaining:  map[string]int{"pods.": 2, "deployments.apps": 1},
		finalizers: map[string]int{"example.test/hold": 1},
	}
	got := map[corev1.NamespaceConditionType][3]string{}
	for _, c := range conditionsFor(r) {
		got[c.Type] = [3]string{string(c.Status), c.Reason, c.Message}
	}
	want := map[corev1.NamespaceConditionType][3]string{
		corev1.NamespaceDeletionDiscoveryFailure: {"False", "ResourcesDiscovered", "All resources successfully discovered"},
		corev1.NamespaceDeletionGVParsingFailure: {"False", "ParsedGroupVersions", "All legacy kube types successfully parsed"},
		corev1.NamespaceDeletionContentFailure:   {"True", "ContentDeletionFailed", "failed to delete all resource types, 1 remaining: secrets: boom"},
		corev1.NamespaceContentRemaining: {"True", "SomeResourcesRemain",
			"Some resources are remaining: deployments.apps has 1 resource instances, pods. has 2 resource instances"},
		corev1.NamespaceFinalizersRemaining: {"True", "SomeFinalizersRemain",
			"Some content in the namespace has finalizers remaining: example.test/hold in 1 resource instances"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("conditions (-want +got):\n%s", diff)
	}
}
