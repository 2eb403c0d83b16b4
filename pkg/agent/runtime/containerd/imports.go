package containerd

import (
	"context"
	"fmt"
	"io"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"
)

// ImportArchive loads a docker or OCI image archive into namespace and
// returns the names of the images it held. Images are unpacked on first
// use (PullImage).
func ImportArchive(ctx context.Context, c *client.Client, namespace string, r io.Reader) ([]string, error) {
	ctx = namespaces.WithNamespace(ctx, namespace)
	imgs, err := c.Import(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("import images: %w", err)
	}
	names := make([]string, 0, len(imgs))
	for _, img := range imgs {
		names = append(names, img.Name)
	}
	return names, nil
}
