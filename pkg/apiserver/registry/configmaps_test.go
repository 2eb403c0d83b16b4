package registry

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func TestConfigMapValidation(t *testing.T) {
	r := coreResource(t, "configmaps")
	tests := []struct {
		name string
		cm   *corev1.ConfigMap
		want []string
	}{
		{"valid", &corev1.ConfigMap{ObjectMeta: objectMeta("c"), Data: map[string]string{"app.conf": "x", "KEY_1": "y"}}, nil},
		{"bad key", &corev1.ConfigMap{ObjectMeta: objectMeta("c"), Data: map[string]string{"a/b": "x"}},
			[]string{"data[a/b]: Invalid value: a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"}},
		{"key in both maps", &corev1.ConfigMap{ObjectMeta: objectMeta("c"), Data: map[string]string{"k": "x"}, BinaryData: map[string][]byte{"k": {1}}},
			[]string{"binaryData[k]: Invalid value: duplicate of key present in data"}},
		{"too big", &corev1.ConfigMap{ObjectMeta: objectMeta("c"), Data: map[string]string{"a": strings.Repeat("x", 1<<20), "b": "y"}},
			[]string{"[]: Too long: may not be more than 1048576 bytes"}},
	}
	for _, tt := range tests {
		checkErrors(t, tt.name, createErrors(r, tt.cm), tt.want)
	}
}

func TestConfigMapImmutable(t *testing.T) {
	r := coreResource(t, "configmaps")
	old := &corev1.ConfigMap{ObjectMeta: objectMeta("c"), Data: map[string]string{"k": "v"}, Immutable: ptr.To(true)}
	checkErrors(t, "labels only", updateErrors(r, mutated(old, func(c *corev1.ConfigMap) { c.Labels = map[string]string{"a": "b"} }), old.DeepCopy()), nil)
	checkErrors(t, "data", updateErrors(r, mutated(old, func(c *corev1.ConfigMap) { c.Data["k"] = "w" }), old.DeepCopy()),
		[]string{"data: Forbidden: field is immutable when `immutable` is set"})
	checkErrors(t, "unset immutable", updateErrors(r, mutated(old, func(c *corev1.ConfigMap) { c.Immutable = nil }), old.DeepCopy()),
		[]string{"immutable: Forbidden: field is immutable when `immutable` is set"})
	mutable := mutated(old, func(c *corev1.ConfigMap) { c.Immutable = nil })
	checkErrors(t, "mutable data", updateErrors(r, mutated(mutable, func(c *corev1.ConfigMap) { c.Data["k"] = "w" }), mutable), nil)
}

func TestConfigMapTable(t *testing.T) {
	r := coreResource(t, "configmaps")
	if diff := cmp.Diff([]string{"NAME", "DATA", "AGE"}, columnNames(r)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	cm := &corev1.ConfigMap{ObjectMeta: objectMeta("c"), Data: map[string]string{"a": "1", "b": "2"}, BinaryData: map[string][]byte{"c": {0}}}
	checkRow(t, r, cm, []any{"c", int64(3), "AGE"})
}
