package containerd

import (
	"context"
	"fmt"
	"hash/fnv"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/oci"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// specInput is everything a container's OCI spec derives from.
type specInput struct {
	Pod       *corev1.Pod
	Container *corev1.Container
	Image     ocispec.ImageConfig
	// SandboxDir holds the pod's hosts, hostname and resolv.conf.
	SandboxDir string
	// NetNS is the sandbox's network namespace; "" for host network.
	NetNS       string
	CgroupsPath string
	// Env is the agent-resolved environment (ContainerConfig.Env).
	Env []string
	// Mounts are the container's volume mounts, resolved to host paths.
	Mounts []specs.Mount
	// TerminationLog is the host file mounted at terminationMessagePath.
	TerminationLog string
	Domain         string
}

// specOpts turns a pod's container into OCI spec options.
func specOpts(in specInput) ([]oci.SpecOpts, error) {
	c, pod := in.Container, in.Pod
	env := mergeEnv(in.Image.Env, in.Env)
	args := commandLine(c, in.Image, envMap(in.Env))
	if len(args) == 0 {
		return nil, fmt.Errorf("container %s: no command: the image has neither entrypoint nor cmd: %w", c.Name, runtime.ErrCreateContainer)
	}
	opts := []oci.SpecOpts{oci.WithProcessArgs(args...), oci.WithEnv(env),
		oci.WithAnnotations(map[string]string{shimGroupAnnotation: shimGroup(pod.UID)})}
	cwd := c.WorkingDir
	if cwd == "" {
		cwd = in.Image.WorkingDir
	}
	if cwd == "" {
		cwd = "/"
	}
	opts = append(opts, oci.WithProcessCwd(cwd))
	if c.TTY {
		opts = append(opts, oci.WithTTY)
	}

	if in.NetNS == "" {
		opts = append(opts, oci.WithHostNamespace(specs.NetworkNamespace), oci.WithHostNamespace(specs.UTSNamespace))
	} else {
		name, _ := podHostname(pod, in.Domain)
		opts = append(opts, oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: in.NetNS}), oci.WithHostname(name))
	}
	if pod.Spec.HostPID {
		opts = append(opts, oci.WithHostNamespace(specs.PIDNamespace))
	}
	if pod.Spec.HostIPC {
		opts = append(opts, oci.WithHostNamespace(specs.IPCNamespace))
	}
	opts = append(opts, oci.WithMounts(containerMounts(in)))
	if in.CgroupsPath != "" {
		opts = append(opts, oci.WithCgroup(in.CgroupsPath))
	}
	opts = append(opts, resourceOpts(c.Resources)...)
	sec, err := securityOpts(pod, c, in.Image.User)
	if err != nil {
		return nil, err
	}
	opts = append(opts, sec...)
	if sc := pod.Spec.SecurityContext; sc != nil && len(sc.Sysctls) > 0 {
		opts = append(opts, func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
			if s.Linux.Sysctl == nil {
				s.Linux.Sysctl = map[string]string{}
			}
			for _, sy := range sc.Sysctls {
				s.Linux.Sysctl[sy.Name] = sy.Value
			}
			return nil
		})
	}
	return opts, nil
}

// shimGroupAnnotation makes containerd's runc shim serve every container
// whose spec names the same group from one shim process.
const shimGroupAnnotation = "io.containerd.runc.v2.group"

// shimGroups is how many shims the containers of a node share. One shim
// per container costs a process start per container (the largest part of
// starting a pod) and ~2.4 MB each; one shim for all would make a shim
// failure reach every pod. A pod's containers always share a group.
const shimGroups = 8

// shimGroup places a pod's containers in one of shimGroups shims.
func shimGroup(uid types.UID) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(uid))
	return "tug-" + strconv.Itoa(int(h.Sum32()%shimGroups))
}

// containerMounts is the pod files, the termination log and the volumes;
// a volume mounted over one of the pod files wins.
func containerMounts(in specInput) []specs.Mount {
	taken := map[string]bool{}
	for _, m := range in.Mounts {
		taken[m.Destination] = true
	}
	var out []specs.Mount
	for file, dst := range map[string]string{hostsFile: "/etc/hosts", hostnameFile: "/etc/hostname", resolvFile: "/etc/resolv.conf"} {
		if taken[dst] || in.SandboxDir == "" {
			continue
		}
		opts := []string{"rbind", "rprivate", "rw"}
		if isReadOnlyRoot(in.Pod, in.Container) {
			opts[2] = "ro"
		}
		out = append(out, specs.Mount{Destination: dst, Type: "bind", Source: filepath.Join(in.SandboxDir, file), Options: opts})
	}
	if in.TerminationLog != "" && !taken[terminationPath(in.Container)] {
		out = append(out, specs.Mount{Destination: terminationPath(in.Container), Type: "bind", Source: in.TerminationLog, Options: []string{"rbind", "rprivate", "rw"}})
	}
	return append(out, in.Mounts...)
}

func terminationPath(c *corev1.Container) string {
	if c.TerminationMessagePath != "" {
		return c.TerminationMessagePath
	}
	return corev1.TerminationMessagePathDefault
}

// bindMount is one agent-resolved volume mount as an OCI bind mount.
func bindMount(m runtime.Mount) specs.Mount {
	prop := "rprivate"
	switch m.Propagation {
	case corev1.MountPropagationHostToContainer:
		prop = "rslave"
	case corev1.MountPropagationBidirectional:
		prop = "rshared"
	}
	mode := "rw"
	if m.ReadOnly {
		mode = "ro"
	}
	return specs.Mount{Destination: m.ContainerPath, Type: "bind", Source: m.HostPath, Options: []string{"rbind", prop, mode}}
}

// resourceOpts maps requests and limits to cgroup settings the way the
// kubelet does: cpu request → shares (min 2), cpu limit → CFS quota over
// a 100ms period, memory limit → memory limit.
func resourceOpts(res corev1.ResourceRequirements) []oci.SpecOpts {
	shares := uint64(2)
	if q, ok := res.Requests[corev1.ResourceCPU]; ok {
		if s := uint64(q.MilliValue() * 1024 / 1000); s > 2 {
			shares = s
		}
	}
	opts := []oci.SpecOpts{oci.WithCPUShares(shares)}
	if q, ok := res.Limits[corev1.ResourceCPU]; ok && !q.IsZero() {
		const period = 100000
		quota := q.MilliValue() * period / 1000
		if quota < 1000 {
			quota = 1000
		}
		opts = append(opts, oci.WithCPUCFS(quota, period))
	}
	if q, ok := res.Limits[corev1.ResourceMemory]; ok && !q.IsZero() {
		opts = append(opts, oci.WithMemoryLimit(uint64(q.Value())))
	}
	return opts
}

// commandLine is the process's argv, following Kubernetes: command
// replaces the entrypoint and drops the image's cmd; args alone replace
// the cmd. $(VAR) references expand from the container's environment
// (the pod's, not the image's).
func commandLine(c *corev1.Container, img ocispec.ImageConfig, env map[string]string) []string {
	var argv []string
	switch {
	case len(c.Command) > 0:
		argv = append(expandAll(c.Command, env), expandAll(c.Args, env)...)
	case len(c.Args) > 0:
		argv = append(append([]string(nil), img.Entrypoint...), expandAll(c.Args, env)...)
	default:
		argv = append(append([]string(nil), img.Entrypoint...), img.Cmd...)
	}
	return argv
}

func expandAll(in []string, env map[string]string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = expand(s, env)
	}
	return out
}

// expand replaces $(NAME) with env[NAME] when defined and $$ with $;
// anything else stays as written.
func expand(s string, env map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
			continue
		case '(':
			if end := strings.IndexByte(s[i+2:], ')'); end >= 0 {
				name := s[i+2 : i+2+end]
				if v, ok := env[name]; ok {
					b.WriteString(v)
					i += 2 + end
					continue
				}
			}
		}
		b.WriteByte('$')
	}
	return b.String()
}

// mergeEnv overlays NAME=value lists, later names replacing earlier ones
// in place.
func mergeEnv(lists ...[]string) []string {
	idx := map[string]int{}
	var out []string
	for _, l := range lists {
		for _, kv := range l {
			name, _, _ := strings.Cut(kv, "=")
			if i, ok := idx[name]; ok {
				out[i] = kv
				continue
			}
			idx[name] = len(out)
			out = append(out, kv)
		}
	}
	return out
}

func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// numericUser parses "uid[:gid]" as used in image configs.
func numericUser(u string) (uid, gid uint32, hasGID, ok bool) {
	us, gs, hasG := strings.Cut(u, ":")
	x, err := strconv.ParseUint(us, 10, 32)
	if err != nil {
		return 0, 0, false, false
	}
	if hasG {
		y, err := strconv.ParseUint(gs, 10, 32)
		if err != nil {
			return 0, 0, false, false
		}
		return uint32(x), uint32(y), true, true
	}
	return uint32(x), 0, false, true
}
