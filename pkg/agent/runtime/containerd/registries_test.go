package containerd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

const goodRegistries = `mirrors:
  docker.io:
    endpoint:
      - "http://mirror.local:5000"
configs:
  mirror.local:5000:
    insecure: true
    auth:
      username: u
      password: p
  secure.local:
    tls:
      insecure_skip_verify: true
`

func TestParseRegistries(t *testing.T) {
	regs, err := ParseRegistries("registries.yaml", []byte(goodRegistries))
	if err != nil {
		t.Fatal(err)
	}
	if got := regs.Mirrors["docker.io"].Endpoints; len(got) != 1 || got[0].String() != "http://mirror.local:5000" {
		t.Errorf("docker.io endpoints = %v", got)
	}
	if c := regs.Configs["mirror.local:5000"]; !c.Insecure || c.Auth.Username != "u" || c.Auth.Password != "p" {
		t.Errorf("mirror config = %+v", c)
	}
	if !regs.Configs["secure.local"].TLS.InsecureSkipVerify {
		t.Errorf("secure.local: insecure_skip_verify not read")
	}

	hosts, err := registryHosts(regs, "docker.io", "docker.io", &runtime.Auth{Username: "pod", Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hosts {
		got = append(got, h.Scheme+"://"+h.Host+h.Path)
	}
	if strings.Join(got, " ") != "http://mirror.local:5000/v2 https://registry-1.docker.io/v2" {
		t.Errorf("hosts for docker.io = %v, want the mirror then the registry", got)
	}
	if u, p, _ := credentials(regs.Configs["mirror.local:5000"].Auth, true, &runtime.Auth{Username: "pod", Password: "secret"})(""); u != "pod" || p != "secret" {
		t.Errorf("credentials = %s/%s, want the pod's for the image's registry", u, p)
	}
	if u, _, _ := credentials(regs.Configs["mirror.local:5000"].Auth, false, nil)(""); u != "u" {
		t.Errorf("credentials = %s, want the configured ones", u)
	}
}

func TestParseRegistriesErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"mirrors:\n  docker.io:\n    endpoints: [x]\n", `f.yaml:3: mirrors.docker.io: unknown field "endpoints"`},
		{"mirrors:\n  docker.io:\n    endpoint:\n      - ftp://x\n", `f.yaml:4: mirrors.docker.io.endpoint: "ftp://x" is not an http:// or https:// URL`},
		{"configs:\n  r:\n    tls:\n      insecure_skip_verify: yes please\n", `f.yaml:4: configs.r.tls.insecure_skip_verify must be true or false`},
		{"mirror: {}\n", `f.yaml:1: unknown field "mirror"`},
		{"mirrors: [a]\n", `f.yaml:1: mirrors must be a mapping`},
		{"mirrors:\n\tbad", `f.yaml: yaml: line 2`},
	} {
		_, err := ParseRegistries("f.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseRegistries(%q) = %v, want an error containing %q", tc.yaml, err, tc.want)
		}
	}
	if regs, err := ParseRegistries("f.yaml", nil); err != nil || len(regs.Mirrors) != 0 {
		t.Errorf("empty file: %v %v, want an empty configuration", regs, err)
	}
}

func TestStartRefusesMalformedRegistries(t *testing.T) {
	dir := t.TempDir()
	bad := "mirrors:\n  registry.example:\n    endpoint: [\"http://a\"\n"
	if err := os.WriteFile(filepath.Join(dir, "registries.yaml"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Start(context.Background(), Config{DataDir: dir, Address: filepath.Join(dir, "none.sock"), NoDaemon: true})
	if err == nil || !strings.Contains(err.Error(), "registries.yaml:") {
		t.Fatalf("Start with a malformed registries.yaml: %v, want an error naming the file and line", err)
	}
}
