package network

import (
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containernetworking/cni/libcni"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	"github.com/google/go-cmp/cmp"
)

func testConfig(t *testing.T) Config {
	dir := t.TempDir()
	return Config{
		PodCIDR:  netip.MustParsePrefix("10.42.3.0/24"),
		DataDir:  filepath.Join(dir, "ipam"),
		CacheDir: filepath.Join(dir, "cache"),
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := testConfig(t).withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NetworkName != "tug" || cfg.BridgeName != "tug0" || !cmp.Equal(cfg.PluginDirs, DefaultPluginDirs) {
		t.Errorf("defaults: name %q bridge %q plugins %v", cfg.NetworkName, cfg.BridgeName, cfg.PluginDirs)
	}
	if got := cfg.Gateway(); got != netip.MustParseAddr("10.42.3.1") {
		t.Errorf("gateway = %v, want 10.42.3.1", got)
	}
}

func TestConfigRejectsBadValues(t *testing.T) {
	for name, mutate := range map[string]func(*Config){
		"no pod CIDR":        func(c *Config) { c.PodCIDR = netip.Prefix{} },
		"IPv6 pod CIDR":      func(c *Config) { c.PodCIDR = netip.MustParsePrefix("fd00::/64") },
		"pod CIDR too small": func(c *Config) { c.PodCIDR = netip.MustParsePrefix("10.42.3.0/31") },
		"relative data dir":  func(c *Config) { c.DataDir = "ipam" },
		"no cache dir":       func(c *Config) { c.CacheDir = "" },
		"long bridge name":   func(c *Config) { c.BridgeName = "a-very-long-bridge" },
		"negative MTU":       func(c *Config) { c.MTU = -1 },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t)
			mutate(&cfg)
			if _, err := cfg.withDefaults(); err == nil {
				t.Error("accepted")
			}
			if _, err := New(cfg); err == nil {
				t.Error("New accepted")
			}
		})
	}
}

func TestConflist(t *testing.T) {
	cfg := testConfig(t)
	cfg.BridgeName = "tugtbr9"
	cfg.MTU = 1400
	cfg, err := cfg.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	for _, portmap := range []bool{false, true} {
		b, err := cfg.conflist(portmap)
		if err != nil {
			t.Fatal(err)
		}
		list, err := libcni.NetworkConfFromBytes(b)
		if err != nil {
			t.Fatalf("libcni rejects the config: %v\n%s", err, b)
		}
		if list.Name != "tug" || list.CNIVersion != "1.0.0" {
			t.Errorf("name %q version %q", list.Name, list.CNIVersion)
		}
		var types []string
		for _, p := range list.Plugins {
			types = append(types, p.Network.Type)
		}
		want := []string{"bridge"}
		if portmap {
			want = append(want, "portmap")
		}
		if diff := cmp.Diff(want, types); diff != "" {
			t.Errorf("plugins (-want +got):\n%s", diff)
		}
		var bridge map[string]any
		if err := json.Unmarshal(list.Plugins[0].Bytes, &bridge); err != nil {
			t.Fatal(err)
		}
		wantBridge := map[string]any{
			"type": "bridge", "bridge": "tugtbr9", "isGateway": true, "isDefaultGateway": true,
			"ipMasq": false, "hairpinMode": true, "mtu": 1400.0,
			"ipam": map[string]any{
				"type": "host-local", "dataDir": cfg.DataDir,
				"ranges": []any{[]any{map[string]any{"subnet": "10.42.3.0/24", "gateway": "10.42.3.1"}}},
			},
		}
		if diff := cmp.Diff(wantBridge, bridge); diff != "" {
			t.Errorf("bridge plugin (-want +got):\n%s", diff)
		}
	}
	if _, err := libcni.NetworkConfFromBytes(loopbackConflist()); err != nil {
		t.Errorf("loopback config: %v", err)
	}
}

func TestCNIArgs(t *testing.T) {
	got := cniArgs("sb1", PodInfo{Namespace: "default", Name: "web-0", UID: "u-1"})
	want := [][2]string{
		{"IgnoreUnknown", "1"},
		{"K8S_POD_NAMESPACE", "default"},
		{"K8S_POD_NAME", "web-0"},
		{"K8S_POD_INFRA_CONTAINER_ID", "sb1"},
		{"K8S_POD_UID", "u-1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CNI_ARGS (-want +got):\n%s", diff)
	}
}

func TestPortMappingArgs(t *testing.T) {
	if got := portMappingArgs(nil); got != nil {
		t.Errorf("no ports: %v, want nil", got)
	}
	got := portMappingArgs([]PortMapping{{HostPort: 8080, ContainerPort: 80, Protocol: "TCP"}, {HostPort: 53, ContainerPort: 53}})
	b, _ := json.Marshal(got)
	want := `{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"},{"hostPort":53,"containerPort":53,"protocol":"tcp"}]}`
	if string(b) != want {
		t.Errorf("got %s\nwant %s", b, want)
	}
}

func TestNewNeedsPlugins(t *testing.T) {
	cfg := testConfig(t)
	cfg.PluginDirs = []string{t.TempDir()}
	_, err := New(cfg)
	if err == nil || !strings.Contains(err.Error(), `"bridge" not found`) {
		t.Fatalf("New without plugins: %v", err)
	}
	for _, p := range requiredPlugins {
		if err := os.WriteFile(filepath.Join(cfg.PluginDirs[0], p), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	n, err := New(cfg)
	if err != nil {
		t.Fatalf("New with plugins: %v", err)
	}
	if n.Config().BridgeName != DefaultBridgeName {
		t.Errorf("Config().BridgeName = %q", n.Config().BridgeName)
	}
}

func TestParseResultTakesSandboxAddress(t *testing.T) {
	host, pod := 0, 2
	r := &types100.Result{
		CNIVersion: "1.0.0",
		Interfaces: []*types100.Interface{{Name: "tug0"}, {Name: "veth1"}, {Name: "eth0", Sandbox: "/x/netns/sb"}},
		IPs: []*types100.IPConfig{
			{Interface: &host, Address: net.IPNet{IP: net.ParseIP("10.42.3.1"), Mask: net.CIDRMask(24, 32)}},
			{Interface: &pod, Address: net.IPNet{IP: net.ParseIP("10.42.3.7"), Mask: net.CIDRMask(24, 32)}, Gateway: net.ParseIP("10.42.3.1")},
		},
	}
	got, err := parseResult(r)
	if err != nil {
		t.Fatal(err)
	}
	want := Result{IP: netip.MustParseAddr("10.42.3.7"), Gateway: netip.MustParseAddr("10.42.3.1")}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if _, err := parseResult(&types100.Result{CNIVersion: "1.0.0"}); err == nil {
		t.Error("empty result accepted")
	}
}

func TestListNetNS(t *testing.T) {
	dir := t.TempDir()
	for _, id := range []string{"b", "a"} {
		if err := os.WriteFile(filepath.Join(dir, id), nil, 0o444); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := ListNetNS(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b"}, got); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	if got, err := ListNetNS(filepath.Join(dir, "missing")); err != nil || got != nil {
		t.Errorf("missing dir: %v, %v", got, err)
	}
}

func TestCreateNetNSRejectsBadIDs(t *testing.T) {
	for _, id := range []string{"", "..", "a/b"} {
		if _, err := CreateNetNS(t.TempDir(), id); err == nil {
			t.Errorf("id %q accepted", id)
		}
	}
}

func TestDeleteNetNSFiles(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale") // left by a crash between create and mount
	if err := os.WriteFile(stale, nil, 0o444); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{stale, stale, "", filepath.Join(dir, "missing")} {
		if err := DeleteNetNS(p); err != nil {
			t.Errorf("DeleteNetNS(%q): %v", p, err)
		}
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale file: %v, want removed", err)
	}
	if err := DeleteNetNS(dir); err == nil {
		t.Error("a directory was accepted")
	}
}
