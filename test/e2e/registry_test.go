//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tugcluster/tug/test/images"
)

// registryPort is where docker-registry listens in the server host.
const registryPort = "5000"

// imageRegistryHost is the registry part of the test images' references;
// the agents' registries.yaml mirrors it to the test registry.
const imageRegistryHost = "registry.tug.test"

// prepareImages makes the test images available: pushed to a registry
// served from the server host, or written to an archive each node imports.
// It returns how (for the log).
func (c *cluster) prepareImages() string {
	t := c.t
	began := time.Now()
	_, err := exec.LookPath("docker-registry")
	if err != nil || os.Getenv("TUG_E2E_IMAGES") == "import" {
		c.archive = filepath.Join(c.dir, "images.tar")
		if err := images.Build(c.archive); err != nil {
			t.Fatalf("build test images: %v", err)
		}
		return fmt.Sprintf("archive imported on each node, built in %v", time.Since(began).Round(time.Millisecond))
	}
	c.startRegistry()
	imgs, err := buildImages()
	if err != nil {
		t.Fatalf("build test images: %v", err)
	}
	client := httpClientIn(c.server.host.Path(), nil)
	client.Timeout = 60 * time.Second
	for ref, img := range imgs {
		repo, tag, _ := strings.Cut(strings.TrimPrefix(ref, imageRegistryHost+"/"), ":")
		if err := pushImage(client, "http://"+c.registry, repo, tag, img); err != nil {
			t.Fatalf("push %s: %v", ref, err)
		}
	}
	return fmt.Sprintf("registry %s, built and pushed in %v", c.registry, time.Since(began).Round(time.Millisecond))
}

// buildImages builds the test images by reference.
func buildImages() (map[string]v1.Image, error) {
	bb, err := images.BusyboxImage()
	if err != nil {
		return nil, err
	}
	out := map[string]v1.Image{images.Busybox: bb}
	for ref, program := range map[string]string{images.Web: "web", images.MemHog: "memhog"} {
		img, err := images.GoImage(program)
		if err != nil {
			return nil, err
		}
		out[ref] = img
	}
	return out, nil
}

// startRegistry runs Debian's docker-registry (plain HTTP, storage in the
// cluster's directory) in the server host and waits until it answers.
func (c *cluster) startRegistry() {
	t := c.t
	c.registry = serverIP + ":" + registryPort
	storage := filepath.Join(c.dir, "registry")
	config := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
http:
  addr: %s
`, storage, c.registry)
	cfgPath := filepath.Join(c.dir, "registry.yaml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := startProc(c.server.host, "registry", filepath.Join(c.dir, "registry.log"), "docker-registry", "serve", cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	c.registryProc = p
	if _, err := getInEventually(c.server.host.Path(), "http://"+c.registry+"/v2/", 20*time.Second); err != nil {
		t.Fatalf("registry not serving: %v\n%s", err, p.tail(20))
	}
}

// writeRegistriesYAML points the agent's pulls of the test images at the
// plain-HTTP test registry.
func writeRegistriesYAML(t *testing.T, dataDir, registry string) {
	t.Helper()
	y := fmt.Sprintf(`mirrors:
  %s:
    endpoint:
      - "http://%s"
configs:
  "%s":
    insecure: true
`, imageRegistryHost, registry, registry)
	if err := os.WriteFile(filepath.Join(dataDir, "registries.yaml"), []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
}

// importImages loads the image archive into a's containerd with
// `tug image import`, run inside the node host.
func (c *cluster) importImages(a *agentHost) {
	t := c.t
	var sock string
	err := poll(30*time.Second, 200*time.Millisecond, func(context.Context) (bool, error) {
		var err error
		sock, err = a.containerdSocket()
		return err == nil, err
	})
	if err != nil {
		t.Fatalf("node %s: %v", a.name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	out, err := a.host.Command(ctx, c.bin, "image", "import", "--containerd-address", sock, "--namespace", "tug", c.archive).CombinedOutput()
	if err != nil {
		t.Fatalf("tug image import on %s: %v\n%s", a.name, err, out)
	}
}
