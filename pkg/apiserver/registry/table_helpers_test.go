package registry

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestFormatAge(t *testing.T) {
	tests := []struct {
		ago  time.Duration
		want string
	}{
		{30 * time.Second, "30s"},
		{5*time.Minute + 2*time.Second, "5m2s"},
		{90 * time.Minute, "90m"},
		{26 * time.Hour, "26h"},
		{3*24*time.Hour + 4*time.Hour, "3d4h"},
	}
	for _, tt := range tests {
		if got := formatAge(metav1.NewTime(time.Now().Add(-tt.ago))); got != tt.want {
			t.Errorf("age of %v: %q, want %q", tt.ago, got, tt.want)
		}
	}
	if got := formatAge(metav1.Time{}); got != "<unknown>" {
		t.Errorf("zero time: %q, want <unknown>", got)
	}
	if got := formatMicroAge(nil); got != "<unknown>" {
		t.Errorf("nil micro time: %q, want <unknown>", got)
	}
}

func TestNoneCells(t *testing.T) {
	if orNone("") != "<none>" || orNone("x") != "x" || joinOrNone(nil) != "<none>" || joinOrNone([]string{"a", "b"}) != "a,b" {
		t.Error("orNone/joinOrNone do not render <none> for empty values only")
	}
}
