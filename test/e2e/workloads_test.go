//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/test/images"
)

// webV2 is the web image under a second tag, for rollouts.
var webV2 = strings.TrimSuffix(images.Web, ":1") + ":2"

// TestWorkloads runs the workload controllers of `tug server` against real
// agents: a Deployment rolled forward and back, a Job and a CronJob run to
// completion, and a StatefulSet whose pod gets its volume back after it is
// recreated. The checks are independent and run in parallel; the CronJob
// waits for the next minute and bounds the test's length.
func TestWorkloads(t *testing.T) {
	c := startCluster(t, 2)
	c.tagImage(images.Web, webV2)
	t.Run("controllers", func(t *testing.T) {
		t.Run("CronJobFires", func(t *testing.T) { t.Parallel(); testCronJob(t, c) })
		t.Run("DeploymentRolloutAndUndo", func(t *testing.T) { t.Parallel(); testRollout(t, c) })
		t.Run("JobCompletes", func(t *testing.T) { t.Parallel(); testJob(t, c) })
		t.Run("StatefulSetKeepsVolume", func(t *testing.T) { t.Parallel(); testStatefulSetVolume(t, c) })
	})
}

// tagImage makes the image src also available as dst: the registry gets
// src's manifest under dst's tag, or each node's containerd tags it.
func (c *cluster) tagImage(src, dst string) {
	t := c.t
	if c.registry == "" {
		for _, a := range c.nodes {
			if out, err := c.ctr(a, "images", "tag", "--force", src, dst); err != nil {
				t.Fatalf("node %s: tag %s as %s: %v\n%s", a.name, src, dst, err, out)
			}
		}
		return
	}
	repo, srcTag, _ := strings.Cut(strings.TrimPrefix(src, imageRegistryHost+"/"), ":")
	_, dstTag, _ := strings.Cut(strings.TrimPrefix(dst, imageRegistryHost+"/"), ":")
	base := "http://" + c.registry + "/v2/" + repo + "/manifests/"
	client := httpClientIn(c.server.host.Path(), nil)
	req, err := http.NewRequest(http.MethodGet, base+srcTag, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("get manifest of %s: %v", src, err)
	}
	manifest, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("get manifest of %s: %s %v: %s", src, resp.Status, err, manifest)
	}
	put, err := http.NewRequest(http.MethodPut, base+dstTag, strings.NewReader(string(manifest)))
	if err != nil {
		t.Fatal(err)
	}
	put.Header.Set("Content-Type", resp.Header.Get("Content-Type"))
	if err := expectStatus(client, put, http.StatusCreated); err != nil {
		t.Fatalf("tag %s as %s: %v", src, dst, err)
	}
}

// podsLabelled lists the pods of testNS matching the label selector.
func (a *apiClient) podsLabelled(ctx context.Context, selector string) ([]corev1.Pod, error) {
	var l corev1.PodList
	if err := a.get(ctx, "/api/v1/namespaces/"+testNS+"/pods?labelSelector="+url.QueryEscape(selector), &l); err != nil {
		return nil, err
	}
	return l.Items, nil
}

// deleteWorkload deletes a controller object and waits until the garbage
// collector has removed its pods, so that nothing recreates pods once the
// cluster's teardown deletes them.
func (c *cluster) deleteWorkload(t *testing.T, kind, name, selector string) {
	t.Helper()
	if out, err := c.kubectl("", "-n", testNS, "delete", kind, name, "--ignore-not-found", "--wait=false"); err != nil {
		t.Errorf("delete %s %s: %v\n%s", kind, name, err, out)
		return
	}
	var left []string
	err := poll(60*time.Second, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		pods, err := c.api.podsLabelled(ctx, selector)
		left = left[:0]
		for _, p := range pods {
			left = append(left, p.Name)
		}
		return err == nil && len(pods) == 0, err
	})
	if err != nil {
		t.Errorf("pods of %s %s (%s) still exist after it was deleted: %v %v", kind, name, selector, left, err)
	}
}

// testRollout rolls a Deployment from web:1 to web:2 and back with
// kubectl's rollout commands.
func testRollout(t *testing.T, c *cluster) {
	began := time.Now()
	c.apply(t, fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: %s
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: web
        image: %s
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 1
`, testNS, images.Web))
	t.Cleanup(func() { c.deleteWorkload(t, "deployment", "web", "app=web") })

	rolloutStatus := func() {
		t.Helper()
		if out, err := c.kubectl("", "-n", testNS, "rollout", "status", "deployment/web", "--timeout=60s"); err != nil {
			c.failWorkload(t, "deployment/web", "app=web", fmt.Sprintf("rollout status: %v\n%s", err, out))
		}
	}
	rolloutStatus()
	c.waitDeploymentPods(t, "app=web", 2, images.Web)

	c.mustKubectl("-n", testNS, "set", "image", "deployment/web", "web="+webV2)
	rolloutStatus()
	c.waitDeploymentPods(t, "app=web", 2, webV2)
	if diff := cmp.Diff([]int{1, 2}, c.rolloutRevisions(t, "deployment/web")); diff != "" {
		t.Errorf("rollout history after set image (-want +got):\n%s", diff)
	}

	c.mustKubectl("-n", testNS, "rollout", "undo", "deployment/web")
	rolloutStatus()
	c.waitDeploymentPods(t, "app=web", 2, images.Web)
	// Undo re-applies revision 1's template as the new revision 3.
	if diff := cmp.Diff([]int{2, 3}, c.rolloutRevisions(t, "deployment/web")); diff != "" {
		t.Errorf("rollout history after undo (-want +got):\n%s", diff)
	}
	t.Logf("rolled out, forward and back, in %v", time.Since(began).Round(time.Millisecond))
}

// waitDeploymentPods waits until exactly n pods match selector, all Ready,
// none terminating, and every one running image.
func (c *cluster) waitDeploymentPods(t *testing.T, selector string, n int, image string) {
	t.Helper()
	var got []string
	err := poll(60*time.Second, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		pods, err := c.api.podsLabelled(ctx, selector)
		if err != nil {
			return false, err
		}
		got = got[:0]
		done := len(pods) == n
		for _, p := range pods {
			img := p.Spec.Containers[0].Image
			got = append(got, fmt.Sprintf("%s %s ready=%t deleting=%t", p.Name, img, podReady(&p), p.DeletionTimestamp != nil))
			if img != image || !podReady(&p) || p.DeletionTimestamp != nil {
				done = false
			}
		}
		return done, nil
	})
	if err != nil {
		c.failWorkload(t, "deployment/web", selector,
			fmt.Sprintf("want %d Ready pods of %s: %v; pods: %v", n, image, err, got))
	}
}

// rolloutRevisions is the revisions `kubectl rollout history` lists.
func (c *cluster) rolloutRevisions(t *testing.T, ref string) []int {
	t.Helper()
	out := c.mustKubectl("-n", testNS, "rollout", "history", ref)
	var revs []int
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if n, err := strconv.Atoi(f[0]); err == nil {
			revs = append(revs, n)
		}
	}
	if len(revs) == 0 {
		t.Errorf("rollout history %s lists no revision:\n%s", ref, out)
	}
	return revs
}

// failWorkload fails t with the state of a workload and its pods.
func (c *cluster) failWorkload(t *testing.T, ref, selector, msg string) {
	t.Helper()
	obj, _ := c.kubectl("", "-n", testNS, "get", ref, "-o", "yaml")
	pods, _ := c.kubectl("", "-n", testNS, "get", "pods", "-l", selector, "-o", "wide")
	events, _ := c.kubectl("", "-n", testNS, "get", "events")
	t.Fatalf("%s\n--- %s:\n%s\n--- pods:\n%s\n--- events:\n%s", msg, ref, obj, pods, events)
}

// jobCondition reports whether j has condition typ True.
func jobCondition(j *batchv1.Job, typ batchv1.JobConditionType) bool {
	for _, cond := range j.Status.Conditions {
		if cond.Type == typ {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

func testJob(t *testing.T, c *cluster) {
	began := time.Now()
	c.apply(t, fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata:
  name: hello
  namespace: %s
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: %s
        command: [sh, -c, "echo done"]
`, testNS, images.Busybox))
	t.Cleanup(func() { c.deleteWorkload(t, "job", "hello", "job-name=hello") })
	var j batchv1.Job
	err := poll(60*time.Second, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		if err := c.api.get(ctx, "/apis/batch/v1/namespaces/"+testNS+"/jobs/hello", &j); err != nil {
			return false, err
		}
		return jobCondition(&j, batchv1.JobComplete) || jobCondition(&j, batchv1.JobFailed), nil
	})
	if err != nil || !jobCondition(&j, batchv1.JobComplete) {
		c.failWorkload(t, "job/hello", "job-name=hello", fmt.Sprintf("job not Complete: %v; status %+v", err, j.Status))
	}
	if j.Status.Succeeded != 1 || j.Status.CompletionTime == nil {
		t.Errorf("job status = succeeded %d, completionTime %v; want 1 and set", j.Status.Succeeded, j.Status.CompletionTime)
	}
	if out, err := c.kubectl("", "-n", testNS, "logs", "job/hello"); err != nil || out != "done\n" {
		t.Errorf("logs job/hello = %q, %v; want %q", out, err, "done\n")
	}
	t.Logf("job complete in %v", time.Since(began).Round(time.Millisecond))
}

func testCronJob(t *testing.T, c *cluster) {
	began := time.Now()
	c.apply(t, fmt.Sprintf(`apiVersion: batch/v1
kind: CronJob
metadata:
  name: tick
  namespace: %s
spec:
  schedule: "*/1 * * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    metadata:
      labels: {cron: tick}
    spec:
      backoffLimit: 0
      template:
        metadata:
          labels: {cron: tick}
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 1
          containers:
          - name: main
            image: %s
            command: [sh, -c, "echo tick"]
`, testNS, images.Busybox))
	t.Cleanup(func() { c.deleteWorkload(t, "cronjob", "tick", "cron=tick") })
	// The next activation is at most a minute away; the Job then needs a
	// few seconds to run.
	var done *batchv1.Job
	var seen []string
	err := poll(100*time.Second, time.Second, func(ctx context.Context) (bool, error) {
		var l batchv1.JobList
		if err := c.api.get(ctx, "/apis/batch/v1/namespaces/"+testNS+"/jobs", &l); err != nil {
			return false, err
		}
		seen = seen[:0]
		for i, j := range l.Items {
			if !ownedBy(j.OwnerReferences, "CronJob", "tick") {
				continue
			}
			seen = append(seen, fmt.Sprintf("%s complete=%t", j.Name, jobCondition(&j, batchv1.JobComplete)))
			if jobCondition(&j, batchv1.JobComplete) {
				done = &l.Items[i]
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		c.failWorkload(t, "cronjob/tick", "cron=tick", fmt.Sprintf("no Job of the CronJob completed: %v; jobs: %v", err, seen))
	}
	if !strings.HasPrefix(done.Name, "tick-") {
		t.Errorf("job name %q, want tick-<scheduled minute>", done.Name)
	}
	if out, err := c.kubectl("", "-n", testNS, "logs", "job/"+done.Name); err != nil || out != "tick\n" {
		t.Errorf("logs job/%s = %q, %v; want %q", done.Name, out, err, "tick\n")
	}
	t.Logf("cron job %s complete %v after the CronJob was created", done.Name, time.Since(began).Round(time.Millisecond))
}

// ownedBy reports whether refs name an owner of kind and name.
func ownedBy(refs []metav1.OwnerReference, kind, name string) bool {
	return slices.ContainsFunc(refs, func(r metav1.OwnerReference) bool { return r.Kind == kind && r.Name == name })
}

// testStatefulSetVolume gives a StatefulSet's pod a volume from a
// local-path class whose base directory is the cluster's own directory,
// deletes the pod and checks that its replacement, with the same name,
// finds the data its predecessor wrote.
func testStatefulSetVolume(t *testing.T, c *cluster) {
	began := time.Now()
	base := filepath.Join(c.dir, "storage")
	// Retain: the agents' volume cleaner only knows the default base
	// directory, so the test removes the volume itself.
	c.apply(t, fmt.Sprintf(`apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: e2e-local
provisioner: tug.dev/local-path
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Retain
parameters:
  path: %s
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: store
  namespace: %s
spec:
  serviceName: store
  replicas: 1
  selector:
    matchLabels: {app: store}
  template:
    metadata:
      labels: {app: store}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: %s
        command: [sh, -c, "[ -f /data/id ] || cat /proc/sys/kernel/random/uuid > /data/id; exec sleep 3600"]
        volumeMounts:
        - {name: data, mountPath: /data}
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      storageClassName: e2e-local
      accessModes: [ReadWriteOnce]
      resources:
        requests: {storage: 16Mi}
`, base, testNS, images.Busybox))
	t.Cleanup(func() { c.removeStatefulSetVolumes(t, base) })

	running := func(p *corev1.Pod) bool {
		s := containerStatus(p, "main")
		return p.DeletionTimestamp == nil && s != nil && s.State.Running != nil
	}
	first := c.waitPod(t, "store-0", "running with its volume", 90*time.Second, running)
	id := strings.TrimSpace(c.execIn(t, "store-0", "cat", "/data/id"))
	if len(id) != 36 {
		t.Fatalf("the pod wrote %q to its volume, want a uuid", id)
	}

	var pvc corev1.PersistentVolumeClaim
	if err := c.api.get(context.Background(), "/api/v1/namespaces/"+testNS+"/persistentvolumeclaims/data-store-0", &pvc); err != nil {
		t.Fatalf("claim of store-0: %v", err)
	}
	if pvc.Status.Phase != corev1.ClaimBound || pvc.Spec.VolumeName == "" {
		t.Fatalf("claim data-store-0 is %s (volume %q), want Bound", pvc.Status.Phase, pvc.Spec.VolumeName)
	}
	onDisk, err := os.ReadFile(filepath.Join(base, pvc.Spec.VolumeName, "id"))
	if err != nil || strings.TrimSpace(string(onDisk)) != id {
		t.Errorf("volume directory under the class's path holds %q (%v), want %q", onDisk, err, id)
	}

	c.mustKubectl("-n", testNS, "delete", "pod", "store-0", "--wait=false")
	second := c.waitPod(t, "store-0", "recreated and running", 90*time.Second, func(p *corev1.Pod) bool {
		return p.UID != first.UID && running(p)
	})
	if second.Spec.NodeName != first.Spec.NodeName {
		t.Errorf("recreated pod on %s, want %s (the volume's node)", second.Spec.NodeName, first.Spec.NodeName)
	}
	if got := strings.TrimSpace(c.execIn(t, "store-0", "cat", "/data/id")); got != id {
		t.Errorf("recreated pod reads %q from its volume, want %q", got, id)
	}
	t.Logf("statefulset pod recreated with its data in %v", time.Since(began).Round(time.Millisecond))
}

// removeStatefulSetVolumes deletes the StatefulSet, its claim, the
// retained volume and its class, and the volume directories under base.
func (c *cluster) removeStatefulSetVolumes(t *testing.T, base string) {
	c.deleteWorkload(t, "statefulset", "store", "app=store")
	var pvc corev1.PersistentVolumeClaim
	volume := ""
	if err := c.api.get(context.Background(), "/api/v1/namespaces/"+testNS+"/persistentvolumeclaims/data-store-0", &pvc); err == nil {
		volume = pvc.Spec.VolumeName
	}
	if out, err := c.kubectl("", "-n", testNS, "delete", "pvc", "data-store-0", "--ignore-not-found", "--wait=false"); err != nil {
		t.Errorf("delete claim: %v\n%s", err, out)
	}
	if volume != "" {
		if out, err := c.kubectl("", "delete", "pv", volume, "--ignore-not-found", "--wait=false"); err != nil {
			t.Errorf("delete volume %s: %v\n%s", volume, err, out)
		}
	}
	if out, err := c.kubectl("", "delete", "storageclass", "e2e-local", "--ignore-not-found"); err != nil {
		t.Errorf("delete storage class: %v\n%s", err, out)
	}
	if err := os.RemoveAll(base); err != nil {
		t.Errorf("remove volume directories: %v", err)
	}
}
