//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const manifest = `apiVersion: v1
kind: Namespace
metadata:
  name: demo
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: demo
data:
  color: blue
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: demo
type: Opaque
stringData:
  password: s3cret
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: registry.test/web:v1
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: demo
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func expectContains(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s: output lacks %q:\n%s", what, w, out)
		}
	}
}

// firstLineFields returns the words of the first line (a table header).
func firstLineFields(out string) string {
	line, _, _ := strings.Cut(out, "\n")
	return strings.Join(strings.Fields(line), " ")
}

func TestKubectlWorkflow(t *testing.T) {
	s := startServer(t)
	file := writeFile(t, "app.yaml", manifest)

	out := s.must("apply", "-f", file)
	expectContains(t, "first apply", out, "namespace/demo created", "configmap/settings created",
		"secret/creds created", "deployment.apps/web created", "service/web created")
	out = s.must("apply", "-f", file)
	expectContains(t, "second apply", out, "namespace/demo unchanged", "configmap/settings unchanged",
		"deployment.apps/web unchanged", "service/web unchanged")

	out = s.must("get", "deployments", "-n", "demo")
	if h := firstLineFields(out); h != "NAME READY UP-TO-DATE AVAILABLE AGE" {
		t.Errorf("deployment columns %q", h)
	}
	expectContains(t, "get deployments", out, "web", "0/2")
	out = s.must("get", "services", "-n", "demo")
	if h := firstLineFields(out); h != "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE" {
		t.Errorf("service columns %q", h)
	}
	expectContains(t, "get services", out, "ClusterIP", "80/TCP", "10.43.")
	out = s.must("get", "namespaces")
	expectContains(t, "get namespaces", out, "NAME", "STATUS", "default", "Active", "demo")

	out = s.must("describe", "deployment", "web", "-n", "demo")
	expectContains(t, "describe", out, "Name:", "web", "Namespace:", "demo", "Replicas:", "registry.test/web:v1")

	s.must("label", "deployment", "web", "-n", "demo", "tier=frontend")
	s.must("annotate", "deployment", "web", "-n", "demo", "owner=team-a")
	out = s.must("get", "deployment", "web", "-n", "demo", "-o", "jsonpath={.metadata.labels.tier} {.metadata.annotations.owner}")
	if out != "frontend team-a" {
		t.Errorf("label/annotate gave %q", out)
	}
	out = s.must("get", "deployments", "-n", "demo", "-l", "tier=frontend", "-o", "name")
	expectContains(t, "label selector", out, "deployment.apps/web")

	out = s.must("scale", "deployment", "web", "-n", "demo", "--replicas=3")
	expectContains(t, "scale", out, "deployment.apps/web scaled")
	if out = s.must("get", "deployment", "web", "-n", "demo", "-o", "jsonpath={.spec.replicas}"); out != "3" {
		t.Errorf("replicas after scale = %q", out)
	}

	s.must("patch", "deployment", "web", "-n", "demo", "-p", `{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"registry.test/web:v2"}]}}}}`)
	s.must("patch", "configmap", "settings", "-n", "demo", "--type", "merge", "-p", `{"data":{"size":"large"}}`)
	s.must("patch", "deployment", "web", "-n", "demo", "--type", "json", "-p", `[{"op":"replace","path":"/spec/replicas","value":1}]`)
	out = s.must("get", "deployment", "web", "-n", "demo", "-o", "jsonpath={.spec.template.spec.containers[0].image} {.spec.replicas}")
	if out != "registry.test/web:v2 1" {
		t.Errorf("after patches: %q", out)
	}
	if out = s.must("get", "configmap", "settings", "-n", "demo", "-o", "jsonpath={.data.size}"); out != "large" {
		t.Errorf("merge patch: %q", out)
	}

	editor := writeFile(t, "editor.sh", "#!/bin/sh\nsed -i 's/color: blue/color: red/' \"$1\"\n")
	if err := os.Chmod(editor, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := s.kubectlEnv([]string{"KUBE_EDITOR=" + editor}, "", "edit", "configmap", "settings", "-n", "demo")
	if err != nil {
		t.Fatalf("edit: %v\n%s", err, out)
	}
	expectContains(t, "edit", out, "configmap/settings edited")
	if out = s.must("get", "configmap", "settings", "-n", "demo", "-o", "jsonpath={.data.color}"); out != "red" {
		t.Errorf("after edit color = %q", out)
	}

	watchSeesChange(t, s)
	accessControl(t, s)

	out = s.must("delete", "configmap", "settings", "-n", "demo")
	expectContains(t, "delete", out, `configmap "settings" deleted`)
	out, _ = s.kubectl("get", "configmap", "settings", "-n", "demo")
	expectContains(t, "get deleted", out, `configmaps "settings" not found`)

	out, err = s.kubectl("apply", "--server-side", "-f", file)
	if err != nil {
		expectContains(t, "server-side apply", out, "server-side apply is not supported")
	}

	out, err = s.kubectl("get", "widgets")
	if err == nil {
		t.Errorf("get of an unknown resource type succeeded:\n%s", out)
	}
	expectContains(t, "unknown resource", out, `the server doesn't have a resource type "widgets"`)

	// A default role that lost a rule gets it back at the next start.
	s.must("patch", "clusterrole", "system:basic-user", "--type", "json", "-p", `[{"op":"remove","path":"/rules/1"}]`)
	if out := s.must("get", "clusterrole", "system:basic-user", "-o", "jsonpath={.rules[*].resources}"); strings.Contains(out, "selfsubjectreviews") {
		t.Errorf("patch did not remove the rule: %s", out)
	}

	// Everything survives a restart.
	s.stop()
	s.start()
	if out := s.must("get", "clusterrole", "system:basic-user", "-o", "jsonpath={.rules[*].resources}"); !strings.Contains(out, "selfsubjectreviews") {
		t.Errorf("default role not reconciled at start: %s", out)
	}
	out = s.must("get", "deployment", "web", "-n", "demo", "-o", "jsonpath={.metadata.labels.tier}")
	if out != "frontend" {
		t.Errorf("after restart: %q", out)
	}
	out = s.must("get", "secret", "creds", "-n", "demo", "-o", "jsonpath={.data.password}")
	if out != "czNjcmV0" {
		t.Errorf("secret after restart: %q", out)
	}
}

// watchSeesChange runs `kubectl get -w` and checks that a change shows up.
func watchSeesChange(t *testing.T, s *server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, "kubectl", "get", "configmaps", "-n", "demo", "-w")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.kubeconfig())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// The initial listing first, then a change made while watching.
	seenSettings := false
	for !seenSettings {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("kubectl get -w ended early")
			}
			seenSettings = strings.HasPrefix(l, "settings")
		case <-ctx.Done():
			t.Fatal("kubectl get -w printed no initial rows")
		}
	}
	s.must("create", "configmap", "watched", "-n", "demo", "--from-literal=a=b")
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("kubectl get -w ended before the change")
			}
			if strings.HasPrefix(l, "watched") {
				return
			}
		case <-ctx.Done():
			t.Fatal("kubectl get -w did not show the new configmap")
		}
	}
}

// accessControl drives service accounts and RBAC with kubectl's own
// commands: a token from `kubectl create token` gets exactly what a Role
// bound to its account allows.
func accessControl(t *testing.T, s *server) {
	t.Helper()
	expectContains(t, "create serviceaccount", s.must("create", "serviceaccount", "deployer", "-n", "demo"),
		"serviceaccount/deployer created")
	expectContains(t, "create role", s.must("create", "role", "pod-reader", "--verb=get,list", "--resource=pods", "-n", "demo"),
		"role.rbac.authorization.k8s.io/pod-reader created")
	expectContains(t, "create rolebinding", s.must("create", "rolebinding", "deployer-reads", "--role=pod-reader",
		"--serviceaccount=demo:deployer", "-n", "demo"), "rolebinding.rbac.authorization.k8s.io/deployer-reads created")
	out := s.must("get", "rolebindings", "-n", "demo", "-o", "wide")
	if h := firstLineFields(out); h != "NAME ROLE AGE USERS GROUPS SERVICEACCOUNTS" {
		t.Errorf("rolebinding columns %q", h)
	}
	expectContains(t, "get rolebindings", out, "deployer-reads", "Role/pod-reader", "demo/deployer")
	expectContains(t, "get clusterroles", s.must("get", "clusterroles"), "cluster-admin", "edit", "view", "system:discovery")

	token := strings.TrimSpace(s.must("create", "token", "deployer", "-n", "demo"))
	if strings.Count(token, ".") != 2 {
		t.Fatalf("create token gave %q, want a JWT", token)
	}
	canI := func(args ...string) string {
		out, _ := s.kubectl(append([]string{"auth", "can-i", "-n", "demo", "--token", token}, args...)...)
		return strings.TrimSpace(out)
	}
	if got := canI("list", "pods"); got != "yes" {
		t.Errorf("can-i list pods with the token: %q", got)
	}
	if got := canI("list", "secrets"); got != "no" {
		t.Errorf("can-i list secrets with the token: %q", got)
	}
	out, err := s.kubectl("get", "secrets", "-n", "demo", "--token", token)
	if err == nil {
		t.Errorf("get secrets with the token succeeded:\n%s", out)
	}
	expectContains(t, "forbidden", out, `User "system:serviceaccount:demo:deployer" cannot list resource "secrets"`)
}
