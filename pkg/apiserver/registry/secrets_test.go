package registry

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func TestSecretDefaults(t *testing.T) {
	r := coreResource(t, "secrets")
	s := &corev1.Secret{ObjectMeta: objectMeta("s"), Data: map[string][]byte{"a": []byte("1"), "b": []byte("2")},
		StringData: map[string]string{"b": "two", "c": "three"}}
	if errs := createErrors(r, s); len(errs) != 0 {
		t.Fatalf("valid secret rejected: %v", errs)
	}
	if s.Type != corev1.SecretTypeOpaque || s.StringData != nil {
		t.Errorf("type %q, stringData %v: want Opaque and no stringData", s.Type, s.StringData)
	}
	want := map[string][]byte{"a": []byte("1"), "b": []byte("two"), "c": []byte("three")}
	if diff := cmp.Diff(want, s.Data); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
}

func TestSecretValidation(t *testing.T) {
	r := coreResource(t, "secrets")
	tests := []struct {
		name string
		s    *corev1.Secret
		want []string
	}{
		{"tls needs cert and key", &corev1.Secret{ObjectMeta: objectMeta("s"), Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": {1}}},
			[]string{"data[tls.key]: Required value: "}},
		{"docker config json", &corev1.Secret{ObjectMeta: objectMeta("s"), Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{".dockerconfigjson": []byte(`{"auths":{}}`)}}, nil},
		{"docker config not json", &corev1.Secret{ObjectMeta: objectMeta("s"), Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{".dockerconfigjson": []byte(`{`)}},
			[]string{"data[.dockerconfigjson]: Invalid value: invalid JSON: unexpected end of JSON input"}},
		{"service account token", &corev1.Secret{ObjectMeta: objectMeta("s"), Type: corev1.SecretTypeServiceAccountToken},
			[]string{"metadata.annotations[kubernetes.io/service-account.name]: Required value: "}},
		{"bad key", &corev1.Secret{ObjectMeta: objectMeta("s"), Data: map[string][]byte{"..": {1}}},
			[]string{"data[..]: Invalid value: must not be '..'"}},
	}
	for _, tt := range tests {
		checkErrors(t, tt.name, createErrors(r, tt.s), tt.want)
	}
}

func TestSecretUpdate(t *testing.T) {
	r := coreResource(t, "secrets")
	old := &corev1.Secret{ObjectMeta: objectMeta("s"), Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"k": []byte("v")}}
	checkErrors(t, "type change", updateErrors(r, mutated(old, func(s *corev1.Secret) { s.Type = "example.com/other" }), old.DeepCopy()),
		[]string{"type: Invalid value: field is immutable"})
	frozen := mutated(old, func(s *corev1.Secret) { s.Immutable = ptr.To(true) })
	checkErrors(t, "immutable data", updateErrors(r, mutated(frozen, func(s *corev1.Secret) { s.Data["k"] = []byte("w") }), frozen),
		[]string{"data: Forbidden: field is immutable when `immutable` is set"})
}

func TestSecretTableAndFields(t *testing.T) {
	r := coreResource(t, "secrets")
	if diff := cmp.Diff([]string{"NAME", "TYPE", "DATA", "AGE"}, columnNames(r)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	s := &corev1.Secret{ObjectMeta: objectMeta("s"), Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": {1}, "tls.key": {2}}}
	checkRow(t, r, s, []any{"s", "kubernetes.io/tls", int64(2), "AGE"})
	if got := r.Fields(s)["type"]; got != "kubernetes.io/tls" {
		t.Errorf("type field %q", got)
	}
}
