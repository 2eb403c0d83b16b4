package network

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"

	"golang.org/x/sys/unix"
)

// CreateNetNS makes a new network namespace and keeps it alive as a
// bind-mounted file dir/id, whose path it returns. dir is created if needed.
// Its loopback device is up (the kernel gives it 127.0.0.1 and ::1), so
// no CNI loopback plugin needs to run for it.
func CreateNetNS(dir, id string) (string, error) {
	if id == "" || id != filepath.Base(id) || id == "." || id == ".." {
		return "", fmt.Errorf("create netns: invalid id %q", id)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create netns dir: %w", err)
	}
	path := filepath.Join(dir, id)
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return "", fmt.Errorf("create netns %s: %w", id, err)
	}
	f.Close()
	// The unshare happens on a dedicated, locked thread that is never
	// unlocked: when the goroutine ends the runtime throws the thread away,
	// so no other goroutine ever runs in the new namespace.
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("unshare: %w", err)
			return
		}
		src := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
		if err := unix.Mount(src, path, "", unix.MS_BIND, ""); err != nil {
			errc <- fmt.Errorf("bind mount %s: %w", src, err)
			return
		}
		errc <- LoopbackUp()
	}()
	if err := <-errc; err != nil {
		_ = DeleteNetNS(path)
		return "", fmt.Errorf("create netns %s: %w", id, err)
	}
	return path, nil
}

// LoopbackUp sets lo up in the calling thread's network namespace (the
// caller has locked its OS thread into it).
func LoopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("lo up: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("lo up: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("lo flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("lo up: %w", err)
	}
	return nil
}

// DeleteNetNS unmounts and removes a namespace file made by CreateNetNS.
// A missing or already unmounted file is not an error; a path that is
// neither a namespace nor a regular file is refused. The namespace itself
// goes away once no process uses it.
func DeleteNetNS(path string) error {
	if path == "" {
		return nil
	}
	if isNetNS(path) {
		if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("unmount netns %s: %w", path, err)
		}
	}
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove netns %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("remove netns %s: not a namespace file (%v)", path, fi.Mode().Type())
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove netns %s: %w", path, err)
	}
	return nil
}

// ListNetNS returns the ids of the namespace files in dir, sorted, so an
// agent can remove those no sandbox owns. A missing dir holds none.
func ListNetNS(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list netns: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// isNetNS reports whether path is a mounted network namespace file.
func isNetNS(path string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false
	}
	return st.Type == unix.NSFS_MAGIC
}
