package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestServerFlagErrorsNameTheFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"server", "--service-cidr", "10.43.0.0/33"}, []string{`"--service-cidr"`, "not a CIDR"}},
		{[]string{"server", "--pod-cidr", "10.42.1.0/16"}, []string{`"--pod-cidr"`, "did you mean 10.42.0.0/16"}},
		{[]string{"server", "--service-node-port-range", "32767-30000"}, []string{`"--service-node-port-range"`}},
		{[]string{"server", "--log-level", "chatty"}, []string{`"--log-level"`}},
		{[]string{"server", "--etcd-client-port", "x"}, []string{`"--etcd-client-port"`}},
		{[]string{"server", "--no-such-flag"}, []string{"--no-such-flag", "tug server --help"}},
	} {
		cmd := NewCommand(append([]string{"tug"}, tc.args...))
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		err := cmd.Execute()
		if err == nil {
			t.Errorf("%v: no error", tc.args)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q does not mention %s", tc.args, err, w)
			}
		}
		if ExitCode(err) != 1 {
			t.Errorf("%v: exit code %d, want 1", tc.args, ExitCode(err))
		}
	}
}

func TestServerOptionErrorsComeBeforeStarting(t *testing.T) {
	cmd := NewCommand([]string{"tug", "server", "--data-dir", t.TempDir(),
		"--pod-cidr", "10.43.0.0/16", "--service-cidr", "10.43.0.0/16"})
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "overlaps") {
		t.Fatalf("error = %v, want overlapping CIDRs", err)
	}
}

func TestVersionCommand(t *testing.T) {
	cmd := NewCommand([]string{"tug", "version"})
	var out bytes.Buffer
	cmd.SetOut(&out)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "tug ") || !strings.Contains(out.String(), "Kubernetes API v1.") {
		t.Errorf("version output = %q", out.String())
	}
}

func TestNewCommandDispatchesOnKubectlName(t *testing.T) {
	for argv0, want := range map[string]string{
		"/usr/local/bin/kubectl": "kubectl",
		"kubectl":                "kubectl",
		"/usr/bin/tug":           "tug",
		"my-kubectl":             "tug",
		"kubectl.exe-not":        "tug",
	} {
		if got := NewCommand([]string{argv0}).Name(); got != want {
			t.Errorf("argv[0] %q runs %q, want %q", argv0, got, want)
		}
	}
}

func TestHasKubeconfigFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"get", "pods"}, false},
		{[]string{"--kubeconfig", "/x", "get", "pods"}, true},
		{[]string{"get", "pods", "--kubeconfig=/x"}, true},
		{[]string{"exec", "p", "--", "sh", "--kubeconfig"}, false},
	} {
		if got := hasKubeconfigFlag(tc.args); got != tc.want {
			t.Errorf("hasKubeconfigFlag(%v) = %v, want %v", tc.args, got, tc.want)
		}
	}
}

type statusErr int

func (e statusErr) Error() string   { return "exit" }
func (e statusErr) ExitStatus() int { return int(e) }

func TestExitCode(t *testing.T) {
	if got := ExitCode(nil); got != 0 {
		t.Errorf("ExitCode(nil) = %d", got)
	}
	if got := ExitCode(statusErr(3)); got != 3 {
		t.Errorf("ExitCode(status 3) = %d", got)
	}
}
