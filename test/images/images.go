package images

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// References of the images Build writes.
const (
	Busybox = "registry.tug.test/busybox:1"
	Web     = "registry.tug.test/web:1"
	MemHog  = "registry.tug.test/memhog:1"
)

// BusyboxBinary is the static busybox the busybox image is made of
// (Debian's busybox-static).
const BusyboxBinary = "/bin/busybox"

// File is one entry of an image layer.
type File struct {
	Path     string // absolute path in the image
	Mode     int64
	Content  []byte
	Linkname string // a symlink when set
	Dir      bool
}

// Layer makes a layer from files; parent directories must be listed.
func Layer(files []File) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(0, 0)
	for _, f := range files {
		h := &tar.Header{Name: strings.TrimPrefix(f.Path, "/"), Mode: f.Mode, ModTime: mtime, Format: tar.FormatPAX}
		switch {
		case f.Dir:
			h.Typeflag, h.Name = tar.TypeDir, h.Name+"/"
		case f.Linkname != "":
			h.Typeflag, h.Linkname = tar.TypeSymlink, f.Linkname
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.Content))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(f.Content); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
}

// Image is a linux image of one layer with the given entrypoint.
func Image(files []File, entrypoint ...string) (v1.Image, error) {
	l, err := Layer(files)
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", goruntime.GOARCH
	cfg.Config.Entrypoint = entrypoint
	cfg.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	return mutate.ConfigFile(img, cfg)
}

// baseFiles is the skeleton every test image has.
func baseFiles() []File {
	return []File{
		{Path: "/bin", Dir: true, Mode: 0o755},
		{Path: "/dev", Dir: true, Mode: 0o755},
		{Path: "/etc", Dir: true, Mode: 0o755},
		{Path: "/proc", Dir: true, Mode: 0o755},
		{Path: "/sys", Dir: true, Mode: 0o755},
		{Path: "/tmp", Dir: true, Mode: 0o1777},
		{Path: "/etc/passwd", Mode: 0o644, Content: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		{Path: "/etc/group", Mode: 0o644, Content: []byte("root:x:0:\nnogroup:x:65534:\n")},
	}
}

// BusyboxImage is busybox with a symlink per applet; its default command
// is sh.
func BusyboxImage() (v1.Image, error) {
	bin, err := os.ReadFile(BusyboxBinary)
	if err != nil {
		return nil, fmt.Errorf("busybox image: %w (install busybox-static)", err)
	}
	out, err := exec.Command(BusyboxBinary, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("busybox --list: %w", err)
	}
	files := append(baseFiles(), File{Path: "/bin/busybox", Mode: 0o755, Content: bin})
	applets := strings.Fields(string(out))
	sort.Strings(applets)
	for _, a := range applets {
		if a != "busybox" {
			files = append(files, File{Path: "/bin/" + a, Linkname: "busybox", Mode: 0o777})
		}
	}
	return Image(files, "/bin/sh")
}

// GoImage builds the Go program in test/images/<program> statically and
// makes it the image's entrypoint /<program>.
func GoImage(program string) (v1.Image, error) {
	dir := filepath.Join(sourceDir(), program)
	out, err := os.MkdirTemp("", "tug-image-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(out)
	bin := filepath.Join(out, program)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build %s: %w\n%s", program, err, b)
	}
	content, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	return Image(append(baseFiles(), File{Path: "/" + program, Mode: 0o755, Content: content}), "/"+program)
}

// sourceDir is this package's directory, where the programs live.
func sourceDir() string {
	_, file, _, _ := goruntime.Caller(0)
	return filepath.Dir(file)
}

// Build writes the busybox, web and memhog images into one docker-format
// archive at path.
func Build(path string) error {
	bb, err := BusyboxImage()
	if err != nil {
		return err
	}
	refs := map[name.Reference]v1.Image{}
	tag, _ := name.NewTag(Busybox)
	refs[tag] = bb
	for ref, program := range map[string]string{Web: "web", MemHog: "memhog"} {
		img, err := GoImage(program)
		if err != nil {
			return err
		}
		t, err := name.NewTag(ref)
		if err != nil {
			return err
		}
		refs[t] = img
	}
	return WriteArchive(path, refs)
}

// WriteArchive writes images under their references as a docker archive.
func WriteArchive(path string, refs map[name.Reference]v1.Image) error {
	if err := tarball.MultiRefWriteToFile(path, refs); err != nil {
		return fmt.Errorf("write image archive %s: %w", path, err)
	}
	return nil
}
