//go:build e2e

package e2e

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/test/images"
)

// testSidecar: a native sidecar (init container with restartPolicy
// Always) starts before the app container, passes its startup probe,
// keeps running beside it, and the pod is Ready.
func testSidecar(t *testing.T, c *cluster) {
	name := "sidecar"
	c.runPod(t, podSpec{name: name, node: "node-1", image: images.Busybox, grace: 1,
		command: []string{"sh", "-c", "cat /shared/ready; exec sleep 3600"},
		extra:   "    volumeMounts:\n    - {name: shared, mountPath: /shared}\n",
		volumes: `  initContainers:
  - name: helper
    image: ` + images.Busybox + `
    restartPolicy: Always
    command: ["sh", "-c", "echo up > /shared/ready; exec sleep 3600"]
    startupProbe:
      exec: {command: ["cat", "/shared/ready"]}
      periodSeconds: 1
    volumeMounts:
    - {name: shared, mountPath: /shared}
  volumes:
  - name: shared
    emptyDir: {}
`})
	p := c.waitPod(t, name, "Ready with its sidecar running", 60*time.Second, func(p *corev1.Pod) bool {
		ics := p.Status.InitContainerStatuses
		return len(ics) == 1 && ics[0].State.Running != nil && ics[0].Started != nil && *ics[0].Started &&
			podReady(p)
	})
	if p.Status.Phase != corev1.PodRunning {
		t.Errorf("phase %s, want Running", p.Status.Phase)
	}
	if logs := c.mustLogs(t, name, "-c", "main"); !strings.Contains(logs, "up") {
		t.Errorf("main container logs %q: it started before the sidecar wrote its file", logs)
	}
}
