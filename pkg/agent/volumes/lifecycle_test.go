package volumes

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func memoryPod() *corev1.Pod {
	return testPod(
		corev1.Volume{Name: "mem", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{
			Medium: corev1.StorageMediumMemory, SizeLimit: ptrTo(resource.MustParse("16Mi"))}}},
		corev1.Volume{Name: "mem-default", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{
			Medium: corev1.StorageMediumMemory}}},
		corev1.Volume{Name: "disk", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		corev1.Volume{Name: "creds", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "creds"}}},
	)
}

func TestEmptyDirAndTearDown(t *testing.T) {
	m, _, mounter := newTestManager(t, secret("creds", map[string]string{"k": "v"}))
	pod := memoryPod()
	vols, err := m.SetUp(ctxT(t), pod)
	if err != nil {
		t.Fatal(err)
	}
	// SetUp twice mounts nothing twice.
	if _, err := m.SetUp(ctxT(t), pod); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{
		vols.Items["mem"].HostPath:         16 << 20,
		vols.Items["mem-default"].HostPath: 8 << 30, // node allocatable memory
		vols.Items["creds"].HostPath:       0,
	}
	if diff := cmp.Diff(want, mounter.mounted); diff != "" {
		t.Errorf("tmpfs mounts (-want +got):\n%s", diff)
	}
	disk := vols.Items["disk"].HostPath
	if info, err := os.Stat(disk); err != nil || info.Mode().Perm() != 0o777 {
		t.Errorf("disk emptyDir: %v, %v", info, err)
	}
	if err := os.WriteFile(filepath.Join(disk, "f"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}

	uids, err := m.List()
	if err != nil || !cmp.Equal(uids, []string{"uid-1"}) {
		t.Errorf("List = %v, %v", uids, err)
	}
	if err := m.TearDown(ctxT(t), "uid-1"); err != nil {
		t.Fatal(err)
	}
	if len(mounter.mounted) != 0 {
		t.Errorf("mounts left after TearDown: %v", mounter.mounted)
	}
	if _, err := os.Stat(m.PodDir("uid-1")); !os.IsNotExist(err) {
		t.Errorf("pod directory left: %v", err)
	}
	if err := m.TearDown(ctxT(t), "uid-1"); err != nil {
		t.Errorf("second TearDown: %v", err)
	}
	if uids, _ := m.List(); len(uids) != 0 {
		t.Errorf("List after TearDown = %v", uids)
	}
	if err := m.TearDown(ctxT(t), "../etc"); err == nil {
		t.Error("TearDown accepted a UID with a slash")
	}
}

func TestTearDownOrphanRefusesWhileMounted(t *testing.T) {
	m, _, mounter := newTestManager(t)
	dir := filepath.Join(m.opts.RootDir, "orphan", "volumes", PluginEmptyDir, "x")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stuck := &stuckMounter{fakeMounter: mounter}
	m.opts.Mounter = stuck
	_ = mounter.MountTmpfs(dir, 0)
	if err := m.TearDown(ctxT(t), "orphan"); err == nil {
		t.Fatal("TearDown removed a directory that is still mounted")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("mounted directory was removed: %v", err)
	}
	m.opts.Mounter = mounter
	if err := m.TearDown(ctxT(t), "orphan"); err != nil {
		t.Fatal(err)
	}
}

// stuckMounter fails to unmount silently, as a mount held elsewhere would.
type stuckMounter struct{ *fakeMounter }

func (stuckMounter) Unmount(string) error { return nil }

func TestEmptyDirUsage(t *testing.T) {
	m, _, _ := newTestManager(t)
	pod := testPod(
		corev1.Volume{Name: "small", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: ptrTo(resource.MustParse("4Ki"))}}},
		corev1.Volume{Name: "big", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: ptrTo(resource.MustParse("10Mi"))}}},
		corev1.Volume{Name: "unlimited", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	)
	vols, err := m.SetUp(ctxT(t), pod)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 64<<10)
	for i := range data {
		data[i] = byte(i) // not sparse
	}
	for _, name := range []string{"small", "big"} {
		if err := os.WriteFile(filepath.Join(vols.Items[name].HostPath, "f"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	usage, err := m.EmptyDirUsage(pod)
	if err != nil {
		t.Fatal(err)
	}
	if len(usage) != 2 || usage[0].Volume != "small" || !usage[0].Exceeded || usage[1].Exceeded || usage[1].Used < 64<<10 {
		t.Errorf("usage = %+v", usage)
	}
}

func TestRunPropagatesUpdates(t *testing.T) {
	m, client, _ := newTestManager(t, configMap("cfg", map[string]string{"a": "1"}))
	m.opts.ResyncInterval = 20 * time.Millisecond
	vols, err := m.SetUp(ctxT(t), testPod(cmVolume("config", "cfg")))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	if _, err := client.CoreV1().ConfigMaps("ns").Update(ctx, configMap("cfg", map[string]string{"a": "2"}), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(vols.Items["config"].HostPath, "a")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if data, _ := os.ReadFile(file); string(data) == "2" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("update did not reach the volume")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
