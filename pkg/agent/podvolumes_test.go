package agent

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/pkg/agent/runtime"
	fakert "github.com/tugcluster/tug/pkg/agent/runtime/fake"
	"github.com/tugcluster/tug/pkg/agent/volumes"
)

// recordingRuntime keeps the configs containers were created with and
// the credentials of each pull.
type recordingRuntime struct {
	*fakert.Runtime
	mu      sync.Mutex
	configs map[string]runtime.ContainerConfig // by container name
	auths   []*runtime.Auth
	forced  []string
}

func (r *recordingRuntime) CreateContainer(ctx context.Context, sb string, cfg runtime.ContainerConfig) (string, error) {
	r.mu.Lock()
	r.configs[cfg.Container.Name] = cfg
	r.mu.Unlock()
	return r.Runtime.CreateContainer(ctx, sb, cfg)
}

func (r *recordingRuntime) PullImage(ctx context.Context, ref string, auth *runtime.Auth) (string, error) {
	r.mu.Lock()
	r.auths = append(r.auths, auth)
	r.mu.Unlock()
	return r.Runtime.PullImage(ctx, ref, auth)
}

func (r *recordingRuntime) ForcePullImage(ctx context.Context, ref string, auth *runtime.Auth) (string, error) {
	r.mu.Lock()
	r.forced = append(r.forced, ref)
	r.mu.Unlock()
	return r.PullImage(ctx, ref, auth)
}

func newVolumeHarness(t *testing.T) (*harness, *recordingRuntime, string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "pods")
	var rec *recordingRuntime
	h := newHarnessWith(t, func(rt *fakert.Runtime) runtime.Runtime {
		rec = &recordingRuntime{Runtime: rt, configs: map[string]runtime.ContainerConfig{}}
		return rec
	}, nil)
	// The manager reads through the harness's client, which exists now.
	h.agent.opts.Volumes = volumes.NewManager(h.client, volumes.Options{RootDir: root, NodeName: "node-a", Mounter: volumes.PlainMounter{}})
	return h, rec, root
}

func TestVolumesAndEnvReachTheRuntime(t *testing.T) {
	h, rec, root := newVolumeHarness(t)
	ctx := context.Background()
	c := ctr("app", "busybox:1")
	c.Env = []corev1.EnvVar{
		{Name: "GREETING", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "greeting"}}},
		{Name: "MY_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
		{Name: "NODE_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.hostIP"}}},
	}
	c.VolumeMounts = []corev1.VolumeMount{{Name: "conf", MountPath: "/etc/conf"}}
	pod := testPod("vol", c)
	pod.Spec.Volumes = []corev1.Volume{{Name: "conf", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}}}
	h.create(pod)

	// The ConfigMap is missing: FailedMount, no sandbox, a retry.
	if d := h.sync("vol"); d <= 0 {
		t.Errorf("requeue after a failed mount = %v, want a retry", d)
	}
	events := strings.Join(h.drainEvents(), "\n")
	if !strings.Contains(events, "FailedMount") || !strings.Contains(events, `configmap "cfg" not found`) {
		t.Errorf("events = %q, want FailedMount naming the ConfigMap", events)
	}
	if sbs, _ := rec.ListPodSandboxes(ctx); len(sbs) != 0 {
		t.Errorf("sandboxes = %v before the volumes are ready", sbs)
	}
	if cs := h.get("vol").Status.ContainerStatuses; len(cs) != 1 || cs[0].State.Waiting == nil || cs[0].State.Waiting.Reason != "ContainerCreating" {
		t.Errorf("container status = %+v, want waiting ContainerCreating", cs)
	}

	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "default"}, Data: map[string]string{"greeting": "hello"}}
	if _, err := h.client.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.sync("vol")
	got := h.get("vol")
	if got.Status.Phase != corev1.PodRunning {
		t.Fatalf("phase = %s, want Running", got.Status.Phase)
	}
	cfg := rec.configs["app"]
	for _, want := range []string{"GREETING=hello", "MY_IP=" + got.Status.PodIP, "NODE_IP=192.0.2.10"} {
		if !slices.Contains(cfg.Env, want) {
			t.Errorf("env %v lacks %s", cfg.Env, want)
		}
	}
	if len(cfg.Mounts) != 1 {
		t.Fatalf("mounts = %+v, want one", cfg.Mounts)
	}
	m := cfg.Mounts[0]
	if m.ContainerPath != "/etc/conf" || !m.ReadOnly || !strings.HasPrefix(m.HostPath, filepath.Join(root, string(pod.UID))) {
		t.Errorf("mount = %+v, want the ConfigMap volume read-only under the pod's directory", m)
	}
	if b, err := os.ReadFile(filepath.Join(m.HostPath, "greeting")); err != nil || string(b) != "hello" {
		t.Errorf("greeting file = %q, %v", b, err)
	}

	// Deleting the pod removes its volumes after the sandbox.
	h.agent.podDeleted(got)
	if _, err := h.agent.sync(ctx, "default/vol"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, string(pod.UID))); !os.IsNotExist(err) {
		t.Errorf("pod volume directory after deletion: %v, want gone", err)
	}
}

func TestEnvErrorIsCreateContainerConfigError(t *testing.T) {
	h, rec, _ := newVolumeHarness(t)
	c := ctr("app", "busybox:1")
	c.Env = []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: "missing"}, Key: "k"}}}}
	h.create(testPod("env", c))
	h.sync("env")
	cs := h.get("env").Status.ContainerStatuses
	if len(cs) != 1 || cs[0].State.Waiting == nil {
		t.Fatalf("container status = %+v, want waiting", cs)
	}
	if w := cs[0].State.Waiting; w.Reason != "CreateContainerConfigError" || w.Message != `secret "missing" not found` {
		t.Errorf("waiting = %+v, want CreateContainerConfigError with the kubelet's message", w)
	}
	if len(rec.configs) != 0 {
		t.Errorf("containers created despite the env error: %v", rec.configs)
	}
}

func TestOrphanVolumesAreRemovedAfterSync(t *testing.T) {
	h, _, root := newVolumeHarness(t)
	ctx := context.Background()
	stray := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "gone", Namespace: "default", UID: "stray-uid"},
		Spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "d", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}}}
	if _, err := h.agent.opts.Volumes.SetUp(ctx, stray); err != nil {
		t.Fatal(err)
	}
	keep := testPod("keep", ctr("app", "busybox:1"))
	keep.Spec.Volumes = stray.Spec.Volumes
	h.create(keep)
	h.sync("keep")
	keepUID := string(keep.UID)

	h.agent.cleanupOrphanVolumes(ctx) // before the first list: nothing may go
	if _, err := os.Stat(filepath.Join(root, "stray-uid")); err != nil {
		t.Fatalf("volumes removed before the pod list was synced: %v", err)
	}
	h.agent.podsSynced()
	h.agent.cleanupOrphanVolumes(ctx)
	left, err := h.agent.opts.Volumes.List()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{keepUID}, left); diff != "" {
		t.Errorf("pod directories after cleanup (-want +got):\n%s", diff)
	}
}

func TestPullSecretsAndPolicyAlways(t *testing.T) {
	h, rec, _ := newVolumeHarness(t)
	ctx := context.Background()
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "regcred", Namespace: "default"},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(
			`{"auths":{"https://index.docker.io/v1/":{"auth":"aHViOnNlY3JldA=="},"reg.example:5000":{"username":"u","password":"p"}}}`)},
	}
	if _, err := h.client.CoreV1().Secrets("default").Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	a := ctr("a", "reg.example:5000/team/app:1")
	a.ImagePullPolicy = corev1.PullAlways
	b := ctr("b", "busybox")
	c := ctr("c", "other.example/x:1")
	pod := testPod("auth", a, b, c)
	pod.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "absent"}, {Name: "regcred"}}
	h.create(pod)
	h.sync("auth")
	want := []*runtime.Auth{{Username: "u", Password: "p"}, {Username: "hub", Password: "secret"}, nil}
	if diff := cmp.Diff(want, rec.auths); diff != "" {
		t.Errorf("pull credentials (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"reg.example:5000/team/app:1"}, rec.forced); diff != "" {
		t.Errorf("forced pulls (-want +got):\n%s", diff)
	}
}
