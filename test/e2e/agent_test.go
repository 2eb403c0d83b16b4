//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/test/images"
)

// TestAgent runs real pods on a two-node cluster: one server host and two
// node hosts, each agent with its own containerd. Independent checks run
// in parallel; the agent restart and the deletion check run alone after
// them, since they observe a whole node.
func TestAgent(t *testing.T) {
	c := startCluster(t, 2)
	t.Run("pods", func(t *testing.T) {
		t.Run("ServeHTTPAcrossNodes", func(t *testing.T) { t.Parallel(); testServeHTTP(t, c) })
		t.Run("EnvAndVolumes", func(t *testing.T) { t.Parallel(); testEnvAndVolumes(t, c) })
		t.Run("CrashLoopBackOff", func(t *testing.T) { t.Parallel(); testCrashLoop(t, c) })
		t.Run("OOMKilled", func(t *testing.T) { t.Parallel(); testOOMKilled(t, c) })
		t.Run("ReadinessProbe", func(t *testing.T) { t.Parallel(); testReadiness(t, c) })
		t.Run("LivenessProbe", func(t *testing.T) { t.Parallel(); testLiveness(t, c) })
		t.Run("PreStopAndGracefulStop", func(t *testing.T) { t.Parallel(); testPreStop(t, c) })
		t.Run("LogsExecPortForward", func(t *testing.T) { t.Parallel(); testStreaming(t, c) })
		t.Run("Sidecar", func(t *testing.T) { t.Parallel(); testSidecar(t, c) })
		t.Run("Attach", func(t *testing.T) { t.Parallel(); testAttach(t, c) })
		t.Run("Copy", func(t *testing.T) { t.Parallel(); testCopy(t, c) })
		t.Run("ExecTTY", func(t *testing.T) { t.Parallel(); testExecTTY(t, c) })
		t.Run("ServiceAccountToken", func(t *testing.T) { t.Parallel(); testServiceAccountToken(t, c) })
	})
	t.Run("AgentRestartKeepsContainers", func(t *testing.T) { testAgentRestart(t, c) })
	t.Run("DeleteLeavesNothing", func(t *testing.T) { testDeleteLeavesNothing(t, c) })
}

// podSpec is what the tests vary in a pod manifest.
type podSpec struct {
	name, node, image string
	command           []string
	restartPolicy     string // default Always
	grace             int    // terminationGracePeriodSeconds; default 2
	extra             string // YAML appended to the container (indented 4)
	volumes           string // YAML appended to the pod spec (indented 2)
}

func (p podSpec) manifest() string {
	if p.restartPolicy == "" {
		p.restartPolicy = "Always"
	}
	if p.grace == 0 {
		p.grace = 2
	}
	var cmd string
	if len(p.command) > 0 {
		quoted := make([]string, len(p.command))
		for i, a := range p.command {
			quoted[i] = fmt.Sprintf("%q", a)
		}
		cmd = "    command: [" + strings.Join(quoted, ", ") + "]\n"
	}
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
  namespace: %s
spec:
  nodeName: %s
  restartPolicy: %s
  terminationGracePeriodSeconds: %d
  containers:
  - name: main
    image: %s
%s%s%s`, p.name, testNS, p.node, p.restartPolicy, p.grace, p.image, cmd, p.extra, p.volumes)
}

// runPod creates the pod, deletes it when t ends, and waits until its
// container runs.
func (c *cluster) runPod(t *testing.T, p podSpec) *corev1.Pod {
	t.Helper()
	c.apply(t, p.manifest())
	c.deletePodLater(t, p.name)
	return c.waitPod(t, p.name, "main container running", 90*time.Second, func(p *corev1.Pod) bool {
		s := containerStatus(p, "main")
		return s != nil && s.State.Running != nil && p.Status.PodIP != ""
	})
}

func testServeHTTP(t *testing.T, c *cluster) {
	began := time.Now()
	var pods []*corev1.Pod
	for _, a := range c.nodes {
		pods = append(pods, c.runPod(t, podSpec{name: "web-" + a.name, node: a.name, image: images.Web}))
	}
	// From every node host to every pod: the local bridge, and the
	// routes to the other node's pod CIDR.
	for _, from := range c.nodes {
		for _, p := range pods {
			url := fmt.Sprintf("http://%s:8080/hello", p.Status.PodIP)
			body, err := getInEventually(from.host.Path(), url, 20*time.Second)
			if err != nil {
				t.Errorf("from %s to pod %s on %s (%s): %v", from.name, p.Name, p.Spec.NodeName, url, err)
				continue
			}
			if want := p.Name + " /hello\n"; body != want {
				t.Errorf("from %s, %s answered %q, want %q", from.name, url, body, want)
			}
		}
	}
	for _, p := range pods {
		if !strings.HasPrefix(p.Status.PodIP, "10.42.") {
			t.Errorf("pod %s has IP %s, want one from the pod CIDR 10.42.0.0/16", p.Name, p.Status.PodIP)
		}
	}
	t.Logf("two web pods served across nodes in %v", time.Since(began).Round(time.Millisecond))
}

func testEnvAndVolumes(t *testing.T, c *cluster) {
	c.apply(t, `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: e2e
data:
  color: blue
  size: large
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: e2e
type: Opaque
stringData:
  password: s3cret
`)
	script := `echo "PLAIN=$PLAIN"; echo "POD_NAME=$POD_NAME"; echo "POD_IP=$POD_IP"; echo "NODE=$NODE"; ` +
		`echo "COLOR=$COLOR"; echo "PASSWORD=$PASSWORD"; ` +
		`echo "FILE_COLOR=$(cat /etc/settings/color)"; echo "FILE_SIZE=$(cat /etc/settings/size)"; ` +
		`echo "FILE_PASSWORD=$(cat /etc/creds/password)"`
	name := "env"
	c.apply(t, podSpec{name: name, node: "node-2", image: images.Busybox, restartPolicy: "Never",
		command: []string{"sh", "-c", script},
		extra: `    env:
    - name: PLAIN
      value: hello world
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: POD_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
    - name: NODE
      valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
    - name: COLOR
      valueFrom: {configMapKeyRef: {name: settings, key: color}}
    - name: PASSWORD
      valueFrom: {secretKeyRef: {name: creds, key: password}}
    volumeMounts:
    - {name: settings, mountPath: /etc/settings}
    - {name: creds, mountPath: /etc/creds, readOnly: true}
`,
		volumes: `  volumes:
  - name: settings
    configMap: {name: settings}
  - name: creds
    secret: {secretName: creds}
`}.manifest())
	c.deletePodLater(t, name)
	p := c.waitPod(t, name, "Succeeded", 90*time.Second, func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
	})
	logs := c.mustLogs(t, name)
	if p.Status.Phase != corev1.PodSucceeded {
		c.failPod(t, name, p, "pod failed; logs:\n"+logs)
	}
	want := strings.Join([]string{
		"PLAIN=hello world", "POD_NAME=env", "POD_IP=" + p.Status.PodIP, "NODE=node-2",
		"COLOR=blue", "PASSWORD=s3cret", "FILE_COLOR=blue", "FILE_SIZE=large", "FILE_PASSWORD=s3cret",
	}, "\n") + "\n"
	if diff := cmp.Diff(want, logs); diff != "" {
		t.Errorf("container output (-want +got):\n%s", diff)
	}
}

func testCrashLoop(t *testing.T, c *cluster) {
	name := "crasher"
	c.apply(t, podSpec{name: name, node: "node-1", image: images.Busybox,
		command: []string{"sh", "-c", "echo crashing now; exit 3"}}.manifest())
	c.deletePodLater(t, name)
	p := c.waitPod(t, name, "CrashLoopBackOff after two restarts", 120*time.Second, func(p *corev1.Pod) bool {
		s := containerStatus(p, "main")
		return s != nil && s.RestartCount >= 2 && s.State.Waiting != nil && s.State.Waiting.Reason == "CrashLoopBackOff"
	})
	s := containerStatus(p, "main")
	if term := s.LastTerminationState.Terminated; term == nil || term.ExitCode != 3 {
		t.Errorf("lastState = %+v, want terminated with exit code 3", s.LastTerminationState)
	}
	if p.Status.Phase != corev1.PodRunning {
		t.Errorf("phase = %s, want Running while restarting", p.Status.Phase)
	}
	out, err := c.kubectl("", "-n", testNS, "logs", name, "--previous")
	if err != nil || out != "crashing now\n" {
		t.Errorf("logs --previous = %q, %v; want %q", out, err, "crashing now\n")
	}
}

func testOOMKilled(t *testing.T, c *cluster) {
	name := "memhog"
	c.apply(t, podSpec{name: name, node: "node-2", image: images.MemHog, restartPolicy: "Never",
		extra: `    resources:
      limits: {memory: 48Mi}
`}.manifest())
	c.deletePodLater(t, name)
	p := c.waitPod(t, name, "terminated", 90*time.Second, func(p *corev1.Pod) bool {
		s := containerStatus(p, "main")
		return s != nil && s.State.Terminated != nil
	})
	term := containerStatus(p, "main").State.Terminated
	if term.Reason != "OOMKilled" || term.ExitCode != 137 {
		t.Errorf("terminated = reason %q exit %d, want OOMKilled 137", term.Reason, term.ExitCode)
	}
	if p.Status.Phase != corev1.PodFailed {
		t.Errorf("phase = %s, want Failed", p.Status.Phase)
	}
}

// execIn runs a command in the pod's main container.
func (c *cluster) execIn(t *testing.T, pod string, cmd ...string) string {
	t.Helper()
	out, err := c.kubectl("", append([]string{"-n", testNS, "exec", pod, "--"}, cmd...)...)
	if err != nil {
		t.Fatalf("exec %v in %s: %v\n%s", cmd, pod, err, out)
	}
	return out
}

func (c *cluster) mustLogs(t *testing.T, pod string, args ...string) string {
	t.Helper()
	out, err := c.kubectl("", append([]string{"-n", testNS, "logs", pod}, args...)...)
	if err != nil {
		t.Fatalf("logs %s: %v\n%s", pod, err, out)
	}
	return out
}

func testReadiness(t *testing.T, c *cluster) {
	name := "ready"
	c.runPod(t, podSpec{name: name, node: "node-1", image: images.Busybox, grace: 1,
		command: []string{"sleep", "3600"},
		extra: `    readinessProbe:
      exec: {command: [cat, /tmp/ready]}
      periodSeconds: 1
      failureThreshold: 1
`})
	notReady := func(p *corev1.Pod) bool {
		s := containerStatus(p, "main")
		return !podReady(p) && s != nil && !s.Ready
	}
	ready := func(p *corev1.Pod) bool {
		s := containerStatus(p, "main")
		return podReady(p) && s != nil && s.Ready
	}
	c.waitPod(t, name, "not Ready before the file exists", 10*time.Second, notReady)
	c.execIn(t, name, "touch", "/tmp/ready")
	c.waitPod(t, name, "Ready once the probe passes", 20*time.Second, ready)
	c.execIn(t, name, "rm", "/tmp/ready")
	p := c.waitPod(t, name, "not Ready once the probe fails", 20*time.Second, notReady)
	if s := containerStatus(p, "main"); s.RestartCount != 0 || s.State.Running == nil {
		t.Errorf("a failing readiness probe changed the container: %+v", s)
	}
}

func testLiveness(t *testing.T, c *cluster) {
	name := "live"
	first := c.runPod(t, podSpec{name: name, node: "node-2", image: images.Busybox, grace: 1,
		command: []string{"sh", "-c", `echo "run $(cat /proc/sys/kernel/random/uuid)"; touch /tmp/alive; exec sleep 3600`},
		extra: `    livenessProbe:
      exec: {command: [cat, /tmp/alive]}
      periodSeconds: 1
      failureThreshold: 1
`})
	before := containerStatus(first, "main")
	c.execIn(t, name, "rm", "/tmp/alive")
	p := c.waitPod(t, name, "restarted by the liveness probe and running again", 40*time.Second, func(p *corev1.Pod) bool {
		s := containerStatus(p, "main")
		return s != nil && s.RestartCount == 1 && s.State.Running != nil
	})
	s := containerStatus(p, "main")
	if s.ContainerID == before.ContainerID {
		t.Errorf("container ID %s unchanged after the restart", s.ContainerID)
	}
	if s.LastTerminationState.Terminated == nil {
		t.Errorf("lastState = %+v, want the killed container", s.LastTerminationState)
	}
	// Each run printed its own id: logs shows the current run's,
	// --previous the killed one's.
	current := c.mustLogs(t, name)
	previous, err := c.kubectl("", "-n", testNS, "logs", name, "--previous")
	if err != nil || !strings.HasPrefix(previous, "run ") || !strings.HasPrefix(current, "run ") || previous == current {
		t.Errorf("logs = %q, logs --previous = %q (%v); want two different runs", current, previous, err)
	}
}
