package volumes

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestHostPathTypes(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "s.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	missing := filepath.Join(dir, "missing")

	for _, tc := range []struct {
		path string
		typ  corev1.HostPathType
		want string // "" for success
	}{
		{missing, corev1.HostPathUnset, ""},
		{dir, corev1.HostPathDirectory, ""},
		{file, corev1.HostPathDirectory, "hostPath type check failed: " + file + " is not a directory"},
		{missing, corev1.HostPathDirectory, "hostPath type check failed: " + missing + " is not a directory"},
		{file, corev1.HostPathFile, ""},
		{dir, corev1.HostPathFile, "hostPath type check failed: " + dir + " is not a file"},
		{sock, corev1.HostPathSocket, ""},
		{file, corev1.HostPathSocket, "hostPath type check failed: " + file + " is not a socket file"},
		{"/dev/null", corev1.HostPathCharDev, ""},
		{file, corev1.HostPathCharDev, "hostPath type check failed: " + file + " is not a character device"},
		{"/dev/null", corev1.HostPathBlockDev, "hostPath type check failed: /dev/null is not a block device"},
		{file, corev1.HostPathDirectoryOrCreate, "hostPath type check failed: " + file + " is not a directory"},
		{dir, corev1.HostPathFileOrCreate, "hostPath type check failed: " + dir + " is not a file"},
	} {
		_, err := checkHostPath(tc.path, &tc.typ)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%s %q: err = %q, want %q", tc.typ, tc.path, got, tc.want)
		}
	}

	newDir := filepath.Join(dir, "a", "b")
	if _, err := checkHostPath(newDir, ptrTo(corev1.HostPathDirectoryOrCreate)); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(newDir); err != nil || !info.IsDir() || info.Mode().Perm() != 0o755 {
		t.Errorf("DirectoryOrCreate made %v, %v", info, err)
	}
	newFile := filepath.Join(dir, "c", "f")
	if _, err := checkHostPath(newFile, ptrTo(corev1.HostPathFileOrCreate)); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(newFile); err != nil || !info.Mode().IsRegular() || info.Size() != 0 {
		t.Errorf("FileOrCreate made %v, %v", info, err)
	}
}

func TestHostPathVolume(t *testing.T) {
	m, _, _ := newTestManager(t)
	dir := t.TempDir()
	vol := corev1.Volume{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{
		Path: dir, Type: ptrTo(corev1.HostPathDirectory)}}}
	vols, err := m.SetUp(ctxT(t), testPod(vol))
	if err != nil {
		t.Fatal(err)
	}
	if got := vols.Items["host"]; got.HostPath != dir || got.Managed || got.ReadOnly {
		t.Errorf("hostPath volume = %+v", got)
	}
	vol.HostPath.Path = filepath.Join(dir, "nope")
	_, err = m.SetUp(ctxT(t), testPod(vol))
	if want := `MountVolume.SetUp failed for volume "host" : hostPath type check failed: ` + vol.HostPath.Path + ` is not a directory`; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

func pvc(name, volumeName string, phase corev1.PersistentVolumeClaimPhase) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: "pvc-uid"},
		Spec:       corev1.PersistentVolumeClaimSpec{VolumeName: volumeName},
		Status:     corev1.PersistentVolumeClaimStatus{Phase: phase},
	}
}

func pv(name string, src corev1.PersistentVolumeSource) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeSpec{
			PersistentVolumeSource: src,
			Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			ClaimRef:               &corev1.ObjectReference{Namespace: "ns", Name: "data", UID: "pvc-uid"},
		},
	}
}

func TestPersistentVolumeClaims(t *testing.T) {
	base := t.TempDir()
	hostDir := filepath.Join(base, "pv-data")
	localDir := t.TempDir()
	m, _, _ := newTestManager(t,
		pvc("data", "pv-host", corev1.ClaimBound),
		pv("pv-host", corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{
			Path: hostDir, Type: ptrTo(corev1.HostPathDirectoryOrCreate)}}),
		pvc("local", "pv-local", corev1.ClaimBound),
		pv("pv-local", corev1.PersistentVolumeSource{Local: &corev1.LocalVolumeSource{Path: localDir}}),
		pvc("pending", "", corev1.ClaimPending),
		pvc("nfs", "pv-nfs", corev1.ClaimBound),
		pv("pv-nfs", corev1.PersistentVolumeSource{NFS: &corev1.NFSVolumeSource{Server: "x", Path: "/"}}),
	)
	claim := func(name string, ro bool) corev1.Volume {
		return corev1.Volume{Name: "v", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{
			ClaimName: name, ReadOnly: ro}}}
	}

	vols, err := m.SetUp(ctxT(t), testPod(claim("data", false)))
	if err != nil {
		t.Fatal(err)
	}
	if got := vols.Items["v"]; got.HostPath != hostDir || got.Plugin != PluginHostPath || got.ReadOnly {
		t.Errorf("hostPath PV volume = %+v", got)
	}
	if info, err := os.Stat(hostDir); err != nil || !info.IsDir() {
		t.Errorf("DirectoryOrCreate PV path not created: %v", err)
	}

	vols, err = m.SetUp(ctxT(t), testPod(claim("local", true)))
	if err != nil {
		t.Fatal(err)
	}
	if got := vols.Items["v"]; got.HostPath != localDir || got.Plugin != PluginLocal || !got.ReadOnly {
		t.Errorf("local PV volume = %+v", got)
	}

	for name, want := range map[string]string{
		"pending": `MountVolume.SetUp failed for volume "v" : persistentvolumeclaim "pending" is not bound`,
		"absent":  `MountVolume.SetUp failed for volume "v" : persistentvolumeclaim "absent" not found`,
	} {
		_, err := m.SetUp(ctxT(t), testPod(claim(name, false)))
		if err == nil || err.Error() != want {
			t.Errorf("claim %s: err = %v, want %s", name, err, want)
		}
	}
	if _, err := m.SetUp(ctxT(t), testPod(claim("nfs", false))); !errors.Is(err, ErrUnsupported) {
		t.Errorf("nfs PV: err = %v, want ErrUnsupported", err)
	}
}
