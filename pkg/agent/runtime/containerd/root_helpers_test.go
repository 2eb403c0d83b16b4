package containerd

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"golang.org/x/sys/unix"

	testimages "github.com/tugcluster/tug/test/images"
)

// shared is one private containerd for all root tests of the package,
// and the image archive they import.
var shared struct {
	once    sync.Once
	err     error
	skip    string
	dir     string
	address string
	archive string
	owner   *Runtime // started the daemon; closed by TestMain
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.owner != nil {
		_ = shared.owner.Close()
	}
	if shared.dir != "" {
		unmountUnder(shared.dir)
		_ = os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// unmountUnder detaches mounts a failed test left below dir.
func unmountUnder(dir string) {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return
	}
	lines := strings.Split(string(b), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		f := strings.Fields(lines[i])
		if len(f) > 1 && strings.HasPrefix(f[1], dir+"/") {
			_ = unix.Unmount(f[1], unix.MNT_DETACH)
		}
	}
}

// needRoot skips unless the test can run real containers.
func needRoot(t *testing.T) {
	t.Helper()
	shared.once.Do(func() {
		if os.Geteuid() != 0 {
			shared.skip = "needs root"
			return
		}
		for _, bin := range []string{"containerd", "containerd-shim-runc-v2", "runc", testimages.BusyboxBinary, "go"} {
			if _, err := exec.LookPath(bin); err != nil {
				shared.skip = bin + " is not installed"
				return
			}
		}
		shared.dir, shared.err = os.MkdirTemp("", "tugctd-")
		if shared.err != nil {
			return
		}
		shared.archive = filepath.Join(shared.dir, "images.tar")
		if shared.err = testimages.Build(shared.archive); shared.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		shared.owner, shared.err = Start(ctx, Config{DataDir: filepath.Join(shared.dir, "owner"), Namespace: "tugtest-owner-" + newID()[:8], CgroupParent: "/tugtest-owner"})
		if shared.err == nil {
			shared.address = shared.owner.cfg.Address
		}
	})
	if shared.skip != "" {
		t.Skip(shared.skip)
	}
	if shared.err != nil {
		t.Fatalf("set up containerd: %v", shared.err)
	}
}

// newTestRuntime is a runtime on the shared daemon in a fresh namespace,
// cgroup parent and data dir, with the test images imported; cleanup
// removes everything it created.
func newTestRuntime(t *testing.T) *Runtime {
	t.Helper()
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	suffix := newID()[:10]
	dir, err := os.MkdirTemp(shared.dir, "rt-")
	if err != nil {
		t.Fatal(err)
	}
	ns, cg := "tugtest-"+suffix, "/tugtest-"+suffix
	rt, err := Start(ctx, Config{Address: shared.address, NoDaemon: true, DataDir: dir, Namespace: ns, CgroupParent: cg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanupRuntime(t, rt) })
	f, err := os.Open(shared.archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := ImportArchive(ctx, rt.Client(), ns, f); err != nil {
		t.Fatal(err)
	}
	return rt
}

func cleanupRuntime(t *testing.T, rt *Runtime) {
	rt.closeMu.Lock()
	closed := rt.closed
	rt.closeMu.Unlock()
	if closed {
		return // a test closed it after handing its objects to another
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	if list, err := rt.ListPodSandboxes(ctx); err == nil {
		for _, s := range list {
			errs = append(errs, rt.RemovePodSandbox(ctx, s.ID))
		}
	}
	nctx := namespaces.WithNamespace(ctx, rt.cfg.Namespace)
	c := rt.Client()
	if cs, err := c.Containers(nctx); err == nil {
		for _, ctr := range cs {
			if err := rt.StopContainer(ctx, ctr.ID(), 0); err != nil {
				// Last resort, so no shim outlives the test.
				if task, terr := ctr.Task(nctx, nil); terr == nil {
					_, _ = task.Delete(nctx, containerd.WithProcessKill)
				}
			}
			errs = append(errs, rt.RemoveContainer(ctx, ctr.ID()))
		}
	}
	if imgs, err := c.ImageService().List(nctx); err == nil {
		for _, img := range imgs {
			errs = append(errs, c.ImageService().Delete(nctx, img.Name, images.SynchronousDelete()))
		}
	}
	removeCgroup(rt.cfg.CgroupParent)
	// The namespace can only go once the garbage collector has removed
	// its snapshots and content.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := c.NamespaceService().Delete(ctx, rt.cfg.Namespace)
		if err == nil || time.Now().After(deadline) {
			errs = append(errs, err)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	errs = append(errs, rt.Close())
	if err := errors.Join(errs...); err != nil {
		t.Errorf("cleanup: %v", err)
	}
}
