package volumes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTmpfsMountsReal mounts real tmpfs file systems (Memory emptyDir,
// secret) and checks that TearDown leaves none behind. It needs root.
func TestTmpfsMountsReal(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount tmpfs")
	}
	m, _, _ := newTestManager(t, secret("creds", map[string]string{"k": "v"}))
	m.opts.Mounter = SystemMounter{}
	root, err := filepath.EvalSymlinks(m.opts.RootDir)
	if err != nil {
		t.Fatal(err)
	}
	m.opts.RootDir = root
	t.Cleanup(func() {
		// Unmount whatever a failure left, before TempDir's removal.
		mps, _ := SystemMounter{}.MountPoints(root)
		for i := len(mps) - 1; i >= 0; i-- {
			_ = SystemMounter{}.Unmount(mps[i])
		}
	})

	vols, err := m.SetUp(ctxT(t), memoryPod())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"mem", "mem-default", "creds"} {
		if !mountedInfo(t, vols.Items[name].HostPath) {
			t.Errorf("%s: no tmpfs at %s", name, vols.Items[name].HostPath)
		}
	}
	if mountedInfo(t, vols.Items["disk"].HostPath) {
		t.Error("disk emptyDir is a mount point")
	}
	if data, err := os.ReadFile(filepath.Join(vols.Items["creds"].HostPath, "k")); err != nil || string(data) != "v" {
		t.Errorf("secret file = %q, %v", data, err)
	}
	// A second SetUp does not stack mounts.
	if _, err := m.SetUp(ctxT(t), memoryPod()); err != nil {
		t.Fatal(err)
	}
	if n := countMounts(t, root); n != 3 {
		t.Errorf("%d mounts under the root after two SetUps, want 3", n)
	}

	if err := m.TearDown(ctxT(t), "uid-1"); err != nil {
		t.Fatal(err)
	}
	if n := countMounts(t, root); n != 0 {
		t.Errorf("%d mounts left after TearDown", n)
	}
	if _, err := os.Stat(m.PodDir("uid-1")); !os.IsNotExist(err) {
		t.Errorf("pod directory left: %v", err)
	}
}

func mountInfoPoints(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	mps, err := parseMountInfo(data)
	if err != nil {
		t.Fatal(err)
	}
	return mps
}

func mountedInfo(t *testing.T, path string) bool {
	for _, mp := range mountInfoPoints(t) {
		if mp == path {
			return true
		}
	}
	return false
}

func countMounts(t *testing.T, root string) int {
	n := 0
	for _, mp := range mountInfoPoints(t) {
		if strings.HasPrefix(mp, root+"/") {
			n++
		}
	}
	return n
}

func TestParseMountInfo(t *testing.T) {
	data := []byte("36 35 98:0 /mnt1 /mnt/with\\040space rw,noatime master:1 - ext3 /dev/root rw\n" +
		"37 35 0:5 / /proc rw - proc proc rw\n")
	mps, err := parseMountInfo(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(mps) != 2 || mps[0] != "/mnt/with space" || mps[1] != "/proc" {
		t.Errorf("mount points = %q", mps)
	}
}
