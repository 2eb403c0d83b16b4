package volumes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestMountsFor(t *testing.T) {
	m, _, _ := newTestManager(t, configMap("cfg", map[string]string{"app.conf": "A"}))
	pod := testPod(
		corev1.Volume{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		cmVolume("config", "cfg"),
	)
	c := &pod.Spec.Containers[0]
	c.VolumeMounts = []corev1.VolumeMount{
		{Name: "scratch", MountPath: "/data"},
		{Name: "scratch", MountPath: "/logs", SubPathExpr: "logs/$(POD_NAME)", MountPropagation: ptrTo(corev1.MountPropagationHostToContainer)},
		{Name: "scratch", MountPath: "/cache", SubPath: "cache", ReadOnly: true},
		{Name: "config", MountPath: "/etc/app"},
		{Name: "config", MountPath: "/etc/app.conf", SubPath: "app.conf"},
	}
	vols, err := m.SetUp(ctxT(t), pod)
	if err != nil {
		t.Fatal(err)
	}
	mounts, err := m.MountsFor(pod, c, vols, []string{"POD_NAME=web", "OTHER=x"})
	if err != nil {
		t.Fatal(err)
	}
	scratch := vols.Items["scratch"].HostPath
	config := vols.Items["config"].HostPath
	gen, _ := os.Readlink(filepath.Join(config, "..data"))
	want := []Mount{
		{Name: "scratch", HostPath: scratch, ContainerPath: "/data", Propagation: corev1.MountPropagationNone},
		{Name: "scratch", HostPath: filepath.Join(scratch, "logs", "web"), ContainerPath: "/logs", Propagation: corev1.MountPropagationHostToContainer},
		{Name: "scratch", HostPath: filepath.Join(scratch, "cache"), ContainerPath: "/cache", ReadOnly: true, Propagation: corev1.MountPropagationNone},
		{Name: "config", HostPath: config, ContainerPath: "/etc/app", ReadOnly: true, Propagation: corev1.MountPropagationNone},
		{Name: "config", HostPath: filepath.Join(config, gen, "app.conf"), ContainerPath: "/etc/app.conf", ReadOnly: true, Propagation: corev1.MountPropagationNone},
	}
	// Paths are compared with links resolved (t.TempDir may sit under one).
	for i := range want {
		if real, err := filepath.EvalSymlinks(want[i].HostPath); err == nil {
			want[i].HostPath = real
		}
	}
	if diff := cmp.Diff(want, mounts); diff != "" {
		t.Errorf("mounts (-want +got):\n%s", diff)
	}
	for _, sub := range []string{"logs/web", "cache"} {
		if info, err := os.Stat(filepath.Join(scratch, sub)); err != nil || !info.IsDir() {
			t.Errorf("subPath %s not created: %v", sub, err)
		}
	}
}

func TestMountsForRejects(t *testing.T) {
	m, _, _ := newTestManager(t, configMap("cfg", map[string]string{"a": "A"}))
	outside := t.TempDir()
	pod := testPod(
		corev1.Volume{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		cmVolume("config", "cfg"),
	)
	vols, err := m.SetUp(ctxT(t), pod)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(vols.Items["scratch"].HostPath, "escape")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		vm   corev1.VolumeMount
		want string
	}{
		{corev1.VolumeMount{Name: "nope", MountPath: "/x"}, `cannot find volume "nope" to mount into container "app"`},
		{corev1.VolumeMount{Name: "scratch", MountPath: "/x", SubPath: "../up"}, `must not contain '..'`},
		{corev1.VolumeMount{Name: "scratch", MountPath: "/x", SubPath: "/abs"}, `must be a relative path`},
		{corev1.VolumeMount{Name: "scratch", MountPath: "/x", SubPathExpr: "$(DIR)"}, `must not contain '..'`},
		{corev1.VolumeMount{Name: "scratch", MountPath: "/x", SubPath: "escape"}, `outside the volume`},
		{corev1.VolumeMount{Name: "scratch", MountPath: "/x", SubPath: "escape/new"}, `outside the volume`},
		{corev1.VolumeMount{Name: "config", MountPath: "/x", SubPath: "missing"}, `subPath "missing" does not exist in volume "config"`},
		{corev1.VolumeMount{Name: "scratch", MountPath: "/x", MountPropagation: ptrTo(corev1.MountPropagationBidirectional)},
			`Bidirectional mount propagation is available only to privileged containers`},
	} {
		c := pod.Spec.Containers[0].DeepCopy()
		c.VolumeMounts = []corev1.VolumeMount{tc.vm}
		_, err := m.MountsFor(pod, c, vols, []string{"DIR=a/../../b"})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want it to contain %q", tc.vm, err, tc.want)
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("a subPath created %v outside the volume", entries)
	}
}
