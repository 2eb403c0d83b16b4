package containerd

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/errdefs"
	"github.com/distribution/reference"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// NormalizeRef returns ref's full name ("busybox" →
// "docker.io/library/busybox:latest").
func NormalizeRef(ref string) (string, error) {
	if ref == "" {
		return "", fmt.Errorf("empty image name: %w", runtime.ErrInvalidImageName)
	}
	named, err := reference.ParseDockerRef(ref)
	if err != nil {
		return "", fmt.Errorf("image %q: %v: %w", ref, err, runtime.ErrInvalidImageName)
	}
	return named.String(), nil
}

// PullImage returns the local image's ID when ref is present (imported
// or pulled before), else pulls it through the resolver; either way the
// image is unpacked for the snapshotter. The ID is the config digest.
func (r *Runtime) PullImage(ctx context.Context, ref string, auth *runtime.Auth) (string, error) {
	return r.pull(ctx, ref, auth, false)
}

// ForcePullImage asks the registry even when ref is present, so a moved
// tag is followed (imagePullPolicy Always). When the pull fails but a
// local copy exists (an image loaded with `tug image import`, whose
// registry may not exist at all) the local copy is used and a warning
// logged; the kubelet would fail the pull instead.
func (r *Runtime) ForcePullImage(ctx context.Context, ref string, auth *runtime.Auth) (string, error) {
	return r.pull(ctx, ref, auth, true)
}

func (r *Runtime) pull(ctx context.Context, ref string, auth *runtime.Auth, force bool) (string, error) {
	ctx = r.ctx(ctx)
	name, err := NormalizeRef(ref)
	if err != nil {
		return "", fmt.Errorf("pull: %w", err)
	}
	img, err := r.client.GetImage(ctx, name)
	if err != nil && !errdefs.IsNotFound(err) {
		return "", fmt.Errorf("pull %s: %w", ref, err)
	}
	if local := img; err != nil || force {
		img, err = r.fetch(ctx, name, auth)
		switch {
		case err != nil && force && local != nil:
			r.log.Warn("pull failed; using the local copy", "image", ref, "err", err)
			img = local
		case err != nil:
			return "", fmt.Errorf("pull %s: %w: %w", ref, err, runtime.ErrImagePull)
		}
	}
	if err := r.unpack(ctx, img); err != nil {
		return "", fmt.Errorf("pull %s: %w: %w", ref, err, runtime.ErrImagePull)
	}
	return imgSpecDigest(ctx, img), nil
}

// fetch pulls name from its registry (or a mirror of it).
func (r *Runtime) fetch(ctx context.Context, name string, auth *runtime.Auth) (client.Image, error) {
	regs, err := LoadRegistries(filepath.Join(r.cfg.DataDir, "registries.yaml"))
	if err != nil {
		return nil, err
	}
	named, _ := reference.ParseDockerRef(name)
	return r.client.Pull(ctx, name,
		client.WithPullUnpack, client.WithPullSnapshotter(r.snapshotter),
		client.WithResolver(newResolver(regs, reference.Domain(named), auth)))
}

func (r *Runtime) unpack(ctx context.Context, img client.Image) error {
	ok, err := img.IsUnpacked(ctx, r.snapshotter)
	if err != nil || ok {
		return err
	}
	if err := img.Unpack(ctx, r.snapshotter); err != nil {
		return fmt.Errorf("unpack: %w", err)
	}
	return nil
}

// localImage finds an image by reference, or by the ID PullImage
// returned, and makes sure it is unpacked.
func (r *Runtime) localImage(ctx context.Context, ref, imageID string) (client.Image, error) {
	name, err := NormalizeRef(ref)
	if err != nil {
		return nil, err
	}
	img, err := r.client.GetImage(ctx, name)
	if errdefs.IsNotFound(err) && imageID != "" {
		imgs, lerr := r.client.ListImages(ctx)
		if lerr != nil {
			return nil, lerr
		}
		for _, i := range imgs {
			if imgSpecDigest(ctx, i) == imageID {
				img, err = i, nil
				break
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("image %s is not present: %w", ref, err)
	}
	if err := r.unpack(ctx, img); err != nil {
		return nil, err
	}
	return img, nil
}

// imgSpecDigest is the image's config digest ("" when unreadable).
func imgSpecDigest(ctx context.Context, img client.Image) string {
	desc, err := img.Config(ctx)
	if err != nil {
		return ""
	}
	return desc.Digest.String()
}
