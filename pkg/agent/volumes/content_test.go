package volumes

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func cmVolume(name, cm string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: cm}}}}
}

func TestConfigMapVolumeKeysAndModes(t *testing.T) {
	m, _, _ := newTestManager(t, configMap("cfg", map[string]string{"a.conf": "A", "b.conf": "B"}))
	vol := cmVolume("config", "cfg")
	pod := testPod(vol)
	vols, err := m.SetUp(ctxT(t), pod)
	if err != nil {
		t.Fatal(err)
	}
	v := vols.Items["config"]
	wantDir := filepath.Join(m.opts.RootDir, "uid-1", "volumes", PluginConfigMap, "config")
	if v.HostPath != wantDir || !v.ReadOnly || v.Plugin != PluginConfigMap {
		t.Fatalf("volume = %+v, want read-only configmap at %s", v, wantDir)
	}
	contents, modes := readVolume(t, v.HostPath)
	if diff := cmp.Diff(map[string]string{"a.conf": "A", "b.conf": "B"}, contents); diff != "" {
		t.Errorf("contents (-want +got):\n%s", diff)
	}
	for p, mode := range modes {
		if mode != 0o644 {
			t.Errorf("%s mode = %o, want 644", p, mode)
		}
	}
	// Keys are links through ..data, like the kubelet's layout.
	if target, err := os.Readlink(filepath.Join(v.HostPath, "a.conf")); err != nil || target != "..data/a.conf" {
		t.Errorf("a.conf link = %q, %v", target, err)
	}
}

func TestConfigMapVolumeItemsDefaultModeAndMissingKey(t *testing.T) {
	m, _, _ := newTestManager(t, configMap("cfg", map[string]string{"a": "A", "b": "B", "c": "C"}))
	vol := cmVolume("config", "cfg")
	vol.ConfigMap.DefaultMode = ptrTo(int32(0o600))
	vol.ConfigMap.Items = []corev1.KeyToPath{{Key: "a", Path: "dir/x"}, {Key: "b", Path: "y", Mode: ptrTo(int32(0o400))}}
	vols, err := m.SetUp(ctxT(t), testPod(vol))
	if err != nil {
		t.Fatal(err)
	}
	contents, modes := readVolume(t, vols.Items["config"].HostPath)
	if diff := cmp.Diff(map[string]string{"dir/x": "A", "y": "B"}, contents); diff != "" {
		t.Errorf("contents (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]os.FileMode{"dir/x": 0o600, "y": 0o400}, modes); diff != "" {
		t.Errorf("modes (-want +got):\n%s", diff)
	}

	vol.ConfigMap.Items = []corev1.KeyToPath{{Key: "nope", Path: "n"}}
	vol.Name = "broken"
	_, err = m.SetUp(ctxT(t), testPod(vol))
	want := `MountVolume.SetUp failed for volume "broken" : configmap references non-existent config key: nope`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
	vol.ConfigMap.Optional = ptrTo(true)
	if _, err := m.SetUp(ctxT(t), testPod(vol)); err != nil {
		t.Errorf("optional missing key: %v", err)
	}
}

func TestConfigMapVolumeNotFound(t *testing.T) {
	m, _, _ := newTestManager(t)
	_, err := m.SetUp(ctxT(t), testPod(cmVolume("config", "missing")))
	want := `MountVolume.SetUp failed for volume "config" : configmap "missing" not found`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
	var ve *VolumeError
	if !errors.As(err, &ve) || ve.Volume != "config" || !errors.Is(err, ErrNotFound) {
		t.Errorf("err not a VolumeError for config wrapping ErrNotFound: %#v", err)
	}

	vol := cmVolume("config", "missing")
	vol.ConfigMap.Optional = ptrTo(true)
	vols, err := m.SetUp(ctxT(t), testPod(vol))
	if err != nil {
		t.Fatalf("optional: %v", err)
	}
	contents, _ := readVolume(t, vols.Items["config"].HostPath)
	if len(contents) != 0 {
		t.Errorf("optional missing configmap wrote %v", contents)
	}
}

func TestConfigMapUpdateSwapsAtomically(t *testing.T) {
	m, client, _ := newTestManager(t, configMap("cfg", map[string]string{"a": "1", "old": "x"}))
	pod := testPod(cmVolume("config", "cfg"))
	vols, err := m.SetUp(ctxT(t), pod)
	if err != nil {
		t.Fatal(err)
	}
	dir := vols.Items["config"].HostPath
	gen1, _ := os.Readlink(filepath.Join(dir, "..data"))

	// A resync with nothing changed keeps the generation.
	m.Resync(ctxT(t))
	if gen, _ := os.Readlink(filepath.Join(dir, "..data")); gen != gen1 {
		t.Errorf("unchanged resync switched generation %s → %s", gen1, gen)
	}

	if _, err := client.CoreV1().ConfigMaps("ns").Update(context.Background(),
		configMap("cfg", map[string]string{"a": "2", "new": "y"}), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	m.Resync(ctxT(t))
	contents, _ := readVolume(t, dir)
	if diff := cmp.Diff(map[string]string{"a": "2", "new": "y"}, contents); diff != "" {
		t.Errorf("after update (-want +got):\n%s", diff)
	}
	gen2, _ := os.Readlink(filepath.Join(dir, "..data"))
	if gen2 == gen1 || !strings.HasPrefix(gen2, "..") {
		t.Errorf("generation %q after update (was %q)", gen2, gen1)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{gen2, "..data", "a", "new"}, names); diff != "" {
		t.Errorf("directory entries (-want +got):\n%s", diff)
	}
}

func TestSecretVolumeOnTmpfs(t *testing.T) {
	m, _, mounter := newTestManager(t, secret("creds", map[string]string{"user": "u", "pass": "p"}))
	vol := corev1.Volume{Name: "creds", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
		SecretName: "creds", DefaultMode: ptrTo(int32(0o400))}}}
	vols, err := m.SetUp(ctxT(t), testPod(vol))
	if err != nil {
		t.Fatal(err)
	}
	dir := vols.Items["creds"].HostPath
	if mounted, _ := mounter.IsMountPoint(dir); !mounted {
		t.Errorf("secret volume %s not on a tmpfs", dir)
	}
	contents, modes := readVolume(t, dir)
	if diff := cmp.Diff(map[string]string{"user": "u", "pass": "p"}, contents); diff != "" {
		t.Errorf("contents (-want +got):\n%s", diff)
	}
	if modes["pass"] != 0o400 {
		t.Errorf("mode = %o, want 400", modes["pass"])
	}

	vol.Secret.Items = []corev1.KeyToPath{{Key: "token", Path: "t"}}
	vol.Name = "other"
	_, err = m.SetUp(ctxT(t), testPod(vol))
	if want := `MountVolume.SetUp failed for volume "other" : references non-existent secret key: token`; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
	vol.Secret.SecretName = "nope"
	_, err = m.SetUp(ctxT(t), testPod(vol))
	if want := `MountVolume.SetUp failed for volume "other" : secret "nope" not found`; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

func TestDownwardAPIVolume(t *testing.T) {
	m, _, _ := newTestManager(t)
	vol := corev1.Volume{Name: "info", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{
		Items: []corev1.DownwardAPIVolumeFile{
			{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}},
			{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}},
			{Path: "uid", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.uid"}},
			{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
			{Path: "annotations", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations"}, Mode: ptrTo(int32(0o600))},
			{Path: "app", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}},
			{Path: "node", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}},
			{Path: "sa", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.serviceAccountName"}},
			{Path: "ip", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}},
			{Path: "hostip", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.hostIP"}},
			{Path: "mem_limit", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "app", Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}},
			{Path: "cpu_limit", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "app", Resource: "limits.cpu"}},
			{Path: "cpu_req", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "app", Resource: "requests.cpu", Divisor: resource.MustParse("1m")}},
			{Path: "cpu_req_cores", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "app", Resource: "requests.cpu"}},
		},
	}}}
	pod := testPod(vol)
	vols, err := m.SetUp(ctxT(t), pod)
	if err != nil {
		t.Fatal(err)
	}
	contents, modes := readVolume(t, vols.Items["info"].HostPath)
	want := map[string]string{
		"name": "web", "namespace": "ns", "uid": "uid-1",
		"labels":      "app=\"web\"\ntier=\"front\"",
		"annotations": `note="a \"quoted\" value"`,
		"app":         "web", "node": "node-1", "sa": "sa", "ip": "10.42.0.5", "hostip": "192.0.2.10",
		"mem_limit": "64", "cpu_limit": "4", // no cpu limit: node allocatable
		"cpu_req": "250", "cpu_req_cores": "1", // rounded up
	}
	if diff := cmp.Diff(want, contents); diff != "" {
		t.Errorf("contents (-want +got):\n%s", diff)
	}
	if modes["annotations"] != 0o600 || modes["name"] != 0o644 {
		t.Errorf("modes = %v", modes)
	}

	// Label changes reach the files on the next SetUp or resync.
	pod2 := pod.DeepCopy()
	pod2.Labels["app"] = "api"
	if _, err := m.SetUp(ctxT(t), pod2); err != nil {
		t.Fatal(err)
	}
	contents, _ = readVolume(t, vols.Items["info"].HostPath)
	if contents["app"] != "api" {
		t.Errorf("app label file = %q after update", contents["app"])
	}
}

func TestProjectedVolume(t *testing.T) {
	m, client, mounter := newTestManager(t,
		configMap("kube-root-ca.crt", map[string]string{"ca.crt": "CA"}),
		secret("s", map[string]string{"k": "v"}))
	serveTokens(client, &testClock{now: time.Now()})
	vol := corev1.Volume{Name: "kube-api-access-x", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		DefaultMode: ptrTo(int32(0o444)),
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
				Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{
				{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}}}},
		},
	}}}
	vols, err := m.SetUp(ctxT(t), testPod(vol))
	if err != nil {
		t.Fatal(err)
	}
	v := vols.Items["kube-api-access-x"]
	contents, modes := readVolume(t, v.HostPath)
	if diff := cmp.Diff(map[string]string{"token": "token-1", "ca.crt": "CA", "k": "v", "namespace": "ns"}, contents); diff != "" {
		t.Errorf("contents (-want +got):\n%s", diff)
	}
	if modes["ca.crt"] != 0o444 || modes["token"] != 0o444 {
		t.Errorf("modes = %v, want 444", modes)
	}
	if mounted, _ := mounter.IsMountPoint(v.HostPath); !mounted {
		t.Error("projected volume not on tmpfs")
	}
	if len(vols.Warnings) != 0 {
		t.Errorf("warnings = %q", vols.Warnings)
	}

	vol.Projected.Sources = []corev1.VolumeProjection{{ClusterTrustBundle: &corev1.ClusterTrustBundleProjection{Path: "b"}}}
	_, err = m.SetUp(ctxT(t), testPod(vol))
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "clusterTrustBundle") {
		t.Errorf("clusterTrustBundle err = %v", err)
	}
}

func TestPayloadPathValidation(t *testing.T) {
	m, _, _ := newTestManager(t, configMap("cfg", map[string]string{"a": "A"}))
	for _, p := range []string{"../escape", "/abs", "..hidden", "a/../../b"} {
		vol := cmVolume("config", "cfg")
		vol.ConfigMap.Items = []corev1.KeyToPath{{Key: "a", Path: p}}
		if _, err := m.SetUp(ctxT(t), testPod(vol)); err == nil {
			t.Errorf("path %q accepted", p)
		}
	}
}
