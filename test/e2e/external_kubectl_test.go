//go:build e2e

package e2e

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestExternalKubectl checks that a kubectl that is not tug's own works with
// the admin kubeconfig the server writes.
func TestExternalKubectl(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("no kubectl on PATH")
	}
	s := startServer(t)
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", s.kubeconfig()}, args...)...)
		cmd.Env = append(os.Environ(), "KUBECONFIG=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	out := run("get", "namespaces")
	expectContains(t, "external get namespaces", out, "NAME", "STATUS", "kube-system", "Active")
	out = run("create", "configmap", "ext", "--from-literal=k=v")
	expectContains(t, "external create", out, "configmap/ext created")
	if out = run("get", "configmap", "ext", "-o", "jsonpath={.data.k}"); out != "v" {
		t.Errorf("external get jsonpath = %q", out)
	}
	expectContains(t, "external version", run("version"), "Server Version: v1.37")
}
