package containerd

import (
	"os"
	"path/filepath"
	"strings"
)

const cgroupRoot = "/sys/fs/cgroup"

// removeCgroup removes the directory p (a cgroup path such as
// "/tug/pod-x") and its empty children from every hierarchy: each v1
// controller mount and the v2 unified tree. runc removes containers'
// cgroups; the pod level is tug's.
func removeCgroup(p string) {
	if p == "" || p == "/" || strings.Contains(p, "..") {
		return
	}
	dirs := []string{filepath.Join(cgroupRoot, p)}
	if entries, err := os.ReadDir(cgroupRoot); err == nil {
		for _, e := range entries {
			dirs = append(dirs, filepath.Join(cgroupRoot, e.Name(), p))
		}
	}
	for _, d := range dirs {
		removeCgroupDir(d)
	}
}

func removeCgroupDir(d string) {
	entries, err := os.ReadDir(d)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() {
			removeCgroupDir(filepath.Join(d, e.Name()))
		}
	}
	_ = os.Remove(d) // cgroup dirs are removed with rmdir, files and all
}

// RemoveCgroupParent removes an empty cgroup parent (Config.CgroupParent)
// and its empty children from every hierarchy, for callers that retire a
// node or a test's runtime.
func RemoveCgroupParent(p string) { removeCgroup(p) }
