package containerd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/google/go-cmp/cmp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

func genSpec(t *testing.T, in specInput) *oci.Spec {
	t.Helper()
	opts, err := specOpts(in)
	if err != nil {
		t.Fatal(err)
	}
	ctx := namespaces.WithNamespace(context.Background(), "test")
	s, err := oci.GenerateSpec(ctx, nil, &containers.Container{ID: "c1"}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func specPod(c corev1.Container) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u1"}, Spec: corev1.PodSpec{Containers: []corev1.Container{c}}}
}

func ptr[T any](v T) *T { return &v }

func TestSpecCommandEnvAndWorkdir(t *testing.T) {
	img := ocispec.ImageConfig{Entrypoint: []string{"/entry"}, Cmd: []string{"default"}, Env: []string{"PATH=/bin", "A=image"}, WorkingDir: "/srv"}
	for _, tc := range []struct {
		name     string
		cmd, arg []string
		want     []string
	}{
		{"image defaults", nil, nil, []string{"/entry", "default"}},
		{"args replace cmd", nil, []string{"x", "$(A)"}, []string{"/entry", "x", "pod"}},
		{"command drops entrypoint and cmd", []string{"sh", "-c"}, []string{"echo $$(A) $(NOPE)"}, []string{"sh", "-c", "echo $(A) $(NOPE)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := corev1.Container{Name: "c", Command: tc.cmd, Args: tc.arg, Env: []corev1.EnvVar{
				{Name: "A", Value: "pod"}, {Name: "B", Value: "$(A)-b"},
				{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			}}
			s := genSpec(t, specInput{Pod: specPod(c), Container: &c, Image: img, NetNS: "/run/netns/x", Env: []string{"A=pod", "B=pod-b", "POD=p"}})
			if diff := cmp.Diff(tc.want, s.Process.Args); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"PATH=/bin", "A=pod", "B=pod-b", "POD=p"}, s.Process.Env); diff != "" {
				t.Errorf("env (-want +got):\n%s", diff)
			}
			if s.Process.Cwd != "/srv" || s.Hostname != "p" {
				t.Errorf("cwd %q hostname %q, want /srv and p", s.Process.Cwd, s.Hostname)
			}
		})
	}
	c := corev1.Container{Name: "c"}
	if _, err := specOpts(specInput{Pod: specPod(c), Container: &c}); !errors.Is(err, runtime.ErrCreateContainer) {
		t.Errorf("no command anywhere: %v, want ErrCreateContainer", err)
	}
}

func TestSpecNamespacesMountsAndCgroups(t *testing.T) {
	c := corev1.Container{Name: "c", Command: []string{"x"}, VolumeMounts: []corev1.VolumeMount{
		{Name: "data", MountPath: "/data", ReadOnly: true, SubPath: "sub"},
	}}
	s := genSpec(t, specInput{Pod: specPod(c), Container: &c, NetNS: "/run/netns/sb1", SandboxDir: "/var/lib/tug/sandboxes/sb1",
		CgroupsPath: "/tug/pod-sb1/c1", TerminationLog: "/var/lib/tug/term/c1",
		Mounts: []specs.Mount{bindMount(runtime.Mount{HostPath: "/vol/data/sub", ContainerPath: "/data", ReadOnly: true})}})
	var netns string
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			netns = ns.Path
		}
	}
	if netns != "/run/netns/sb1" || s.Linux.CgroupsPath != "/tug/pod-sb1/c1" {
		t.Errorf("netns %q cgroups %q, want the sandbox's", netns, s.Linux.CgroupsPath)
	}
	mounts := map[string]specs.Mount{}
	for _, m := range s.Mounts {
		mounts[m.Destination] = m
	}
	for dst, src := range map[string]string{
		"/etc/hosts": "/var/lib/tug/sandboxes/sb1/hosts", "/etc/hostname": "/var/lib/tug/sandboxes/sb1/hostname",
		"/etc/resolv.conf": "/var/lib/tug/sandboxes/sb1/resolv.conf", "/dev/termination-log": "/var/lib/tug/term/c1",
		"/data": "/vol/data/sub",
	} {
		if mounts[dst].Source != src {
			t.Errorf("mount at %s from %q, want %q", dst, mounts[dst].Source, src)
		}
	}
	if !slices.Contains(mounts["/data"].Options, "ro") {
		t.Errorf("read-only volume options %v lack ro", mounts["/data"].Options)
	}

	host := c
	hs := genSpec(t, specInput{Pod: specPod(host), Container: &host})
	for _, ns := range hs.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace || ns.Type == specs.UTSNamespace {
			t.Errorf("host-network container has its own %s namespace", ns.Type)
		}
	}
}

func TestSpecResources(t *testing.T) {
	c := corev1.Container{Name: "c", Command: []string{"x"}, Resources: corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
	}}
	s := genSpec(t, specInput{Pod: specPod(c), Container: &c, NetNS: "/n"})
	r := s.Linux.Resources
	if *r.CPU.Shares != 256 || *r.CPU.Quota != 50000 || *r.CPU.Period != 100000 || *r.Memory.Limit != 64<<20 {
		t.Errorf("resources shares=%d quota=%d period=%d memory=%d, want 256 50000 100000 %d",
			*r.CPU.Shares, *r.CPU.Quota, *r.CPU.Period, *r.Memory.Limit, 64<<20)
	}
	best := corev1.Container{Name: "c", Command: []string{"x"}}
	if s := genSpec(t, specInput{Pod: specPod(best), Container: &best, NetNS: "/n"}); *s.Linux.Resources.CPU.Shares != 2 || s.Linux.Resources.Memory != nil && s.Linux.Resources.Memory.Limit != nil {
		t.Errorf("best-effort resources %+v, want shares 2 and no memory limit", s.Linux.Resources)
	}
}

func TestSpecSecurityContext(t *testing.T) {
	c := corev1.Container{Name: "c", Command: []string{"x"}, SecurityContext: &corev1.SecurityContext{
		RunAsUser: ptr(int64(1000)), ReadOnlyRootFilesystem: ptr(true), AllowPrivilegeEscalation: ptr(false),
		Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"NET_BIND_SERVICE"}},
	}}
	pod := specPod(c)
	pod.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsGroup: ptr(int64(2000)), SupplementalGroups: []int64{3000}, FSGroup: ptr(int64(4000))}
	s := genSpec(t, specInput{Pod: pod, Container: &c, NetNS: "/n"})
	u := s.Process.User
	if u.UID != 1000 || u.GID != 2000 || !cmp.Equal(u.AdditionalGids, []uint32{3000, 4000}) {
		t.Errorf("user = %+v, want 1000:2000 with groups 3000 4000", u)
	}
	if !s.Root.Readonly || !s.Process.NoNewPrivileges {
		t.Errorf("readonly root %v, no_new_privs %v; want both", s.Root.Readonly, s.Process.NoNewPrivileges)
	}
	if diff := cmp.Diff([]string{"CAP_NET_BIND_SERVICE"}, s.Process.Capabilities.Bounding); diff != "" {
		t.Errorf("bounding capabilities (-want +got):\n%s", diff)
	}

	priv := corev1.Container{Name: "c", Command: []string{"x"}, SecurityContext: &corev1.SecurityContext{Privileged: ptr(true)}}
	ps := genSpec(t, specInput{Pod: specPod(priv), Container: &priv, NetNS: "/n"})
	if !slices.Contains(ps.Process.Capabilities.Bounding, "CAP_SYS_ADMIN") || len(ps.Linux.MaskedPaths) != 0 {
		t.Errorf("privileged: caps %v masked %v, want all caps and nothing masked", ps.Process.Capabilities.Bounding, ps.Linux.MaskedPaths)
	}

	root := corev1.Container{Name: "c", Command: []string{"x"}, SecurityContext: &corev1.SecurityContext{RunAsNonRoot: ptr(true)}}
	if _, err := specOpts(specInput{Pod: specPod(root), Container: &root, Image: ocispec.ImageConfig{User: "0"}}); !errors.Is(err, runtime.ErrCreateContainer) {
		t.Errorf("runAsNonRoot with a root image: %v, want ErrCreateContainer", err)
	}
	img := corev1.Container{Name: "c", Command: []string{"x"}}
	if s := genSpec(t, specInput{Pod: specPod(img), Container: &img, Image: ocispec.ImageConfig{User: "33:44"}}); s.Process.User.UID != 33 || s.Process.User.GID != 44 {
		t.Errorf("image user 33:44 gave %+v", s.Process.User)
	}
}

// A pod's containers share one shim; pods spread over shimGroups shims.
func TestSpecShimGroup(t *testing.T) {
	img := ocispec.ImageConfig{Cmd: []string{"/app"}}
	groups := map[string]bool{}
	for i := range 200 {
		pod := specPod(corev1.Container{Name: "a"})
		pod.UID = types.UID(fmt.Sprintf("uid-%d", i))
		var seen string
		for _, name := range []string{"a", "b"} {
			c := corev1.Container{Name: name}
			g := genSpec(t, specInput{Pod: pod, Container: &c, Image: img}).Annotations[shimGroupAnnotation]
			if seen != "" && g != seen {
				t.Fatalf("pod %s: containers in shim groups %q and %q, want one", pod.UID, seen, g)
			}
			seen = g
		}
		groups[seen] = true
	}
	if len(groups) != shimGroups {
		t.Errorf("200 pods use %d shim groups, want %d", len(groups), shimGroups)
	}
}
