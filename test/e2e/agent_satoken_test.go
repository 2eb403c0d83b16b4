//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tugcluster/tug/test/images"
)

// testServiceAccountToken: a pod finds its service account's credentials
// at the well-known path, and they work against the API server with
// exactly the permissions RBAC grants the account.
func testServiceAccountToken(t *testing.T, c *cluster) {
	c.apply(t, `apiVersion: v1
kind: ServiceAccount
metadata: {name: reader, namespace: `+testNS+`}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: `+testNS+`}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader-reads-pods, namespace: `+testNS+`}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects:
- {kind: ServiceAccount, name: reader}
`)
	name := "sa-token"
	c.runPod(t, podSpec{name: name, node: "node-1", image: images.Busybox, grace: 1,
		command: []string{"sleep", "3600"}, volumes: "  serviceAccountName: reader\n"})
	const dir = "/var/run/secrets/kubernetes.io/serviceaccount/"
	token := strings.TrimSpace(c.execIn(t, name, "cat", dir+"token"))
	ca := c.execIn(t, name, "cat", dir+"ca.crt")
	if ns := c.execIn(t, name, "cat", dir+"namespace"); ns != testNS {
		t.Errorf("namespace file %q, want %q", ns, testNS)
	}
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, []byte(ca), 0o644); err != nil {
		t.Fatal(err)
	}
	// The pod's credentials alone: its token, and its CA to verify the
	// server.
	asPod := func(args ...string) (string, error) {
		return c.kubectl("", append([]string{"--kubeconfig", os.DevNull, "--server", "https://" + serverIP + ":" + apiPort,
			"--token", token, "--certificate-authority", caFile, "-n", testNS}, args...)...)
	}
	out, err := asPod("auth", "whoami")
	if err != nil || !strings.Contains(out, "system:serviceaccount:"+testNS+":reader") {
		t.Errorf("auth whoami with the pod's token: %v\n%s", err, out)
	}
	if out, err := asPod("get", "pod", name, "-o", "name"); err != nil || strings.TrimSpace(out) != "pod/"+name {
		t.Errorf("get pod with the pod's token: %v\n%s", err, out)
	}
	out, err = asPod("get", "secrets")
	if err == nil || !strings.Contains(out, `cannot list resource "secrets" in API group "" in the namespace "`+testNS+`"`) {
		t.Errorf("list secrets with the pod's token: %v\n%s", err, out)
	}
}
