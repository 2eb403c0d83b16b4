package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestAgentCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"agent", "--server", "https://127.0.0.1:6443", "--token", "x", "--kubelet-port", "0"}, "--kubelet-port 0 out of range"},
		{[]string{"agent", "--server", "https://127.0.0.1:6443", "--token", "x", "--pod-cidr", "10.9.0.0/24"}, "outside --cluster-cidr 10.42.0.0/16"},
		{[]string{"agent", "--server", "https://127.0.0.1:6443", "--token", "x", "--cluster-cidr", "10.43.0.0/16"}, "overlaps --service-cidr"},
		{[]string{"agent", "--simulate", "3", "--token", "x"}, "--server is required"},
		{[]string{"agent", "--simulate", "3", "--server", "https://127.0.0.1:6443", "--data-dir", t.TempDir()}, "--token is required"},
		{[]string{"agent", "--simulate", "3", "--server", "https://127.0.0.1:6443", "--token", "x", "--sim-memory", "lots"}, "--sim-memory"},
		{[]string{"agent", "--pod-cidr", "10.42.1.0/16"}, "did you mean 10.42.0.0/16"},
	} {
		cmd := NewCommand(append([]string{"tug"}, tc.args...))
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		err := cmd.Execute()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to mention %q", tc.args, err, tc.want)
		}
	}
}
