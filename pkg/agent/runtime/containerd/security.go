package containerd

import (
	"context"
	"fmt"
	"strings"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/oci"
	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// securityOpts maps the pod's and container's securityContext: user and
// groups, privileged, capabilities, no_new_privs, read-only root.
func securityOpts(pod *corev1.Pod, c *corev1.Container, imageUser string) ([]oci.SpecOpts, error) {
	psc := pod.Spec.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	csc := c.SecurityContext
	if csc == nil {
		csc = &corev1.SecurityContext{}
	}
	var opts []oci.SpecOpts

	runAsUser, runAsGroup, nonRoot := psc.RunAsUser, psc.RunAsGroup, psc.RunAsNonRoot
	if csc.RunAsUser != nil {
		runAsUser = csc.RunAsUser
	}
	if csc.RunAsGroup != nil {
		runAsGroup = csc.RunAsGroup
	}
	if csc.RunAsNonRoot != nil {
		nonRoot = csc.RunAsNonRoot
	}
	switch {
	case runAsUser != nil:
		uid, gid := uint32(*runAsUser), uint32(0)
		if runAsGroup != nil {
			gid = uint32(*runAsGroup)
		} else if _, g, hasG, ok := numericUser(imageUser); ok && hasG {
			gid = g
		}
		opts = append(opts, withUIDGID(uid, gid))
		if nonRoot != nil && *nonRoot && uid == 0 {
			return nil, fmt.Errorf("container %s: runAsNonRoot and runAsUser 0: %w", c.Name, runtime.ErrCreateContainer)
		}
	case imageUser != "":
		if uid, gid, _, ok := numericUser(imageUser); ok {
			if runAsGroup != nil {
				gid = uint32(*runAsGroup)
			}
			if nonRoot != nil && *nonRoot && uid == 0 {
				return nil, fmt.Errorf("container %s: runAsNonRoot and the image runs as root: %w", c.Name, runtime.ErrCreateContainer)
			}
			opts = append(opts, withUIDGID(uid, gid))
		} else {
			// A user name: resolved from the image's /etc/passwd.
			opts = append(opts, oci.WithUser(imageUser))
		}
	default:
		if nonRoot != nil && *nonRoot {
			return nil, fmt.Errorf("container %s: runAsNonRoot and the image runs as root: %w", c.Name, runtime.ErrCreateContainer)
		}
		if runAsGroup != nil {
			opts = append(opts, withUIDGID(0, uint32(*runAsGroup)))
		}
	}
	var groups []uint32
	for _, g := range psc.SupplementalGroups {
		groups = append(groups, uint32(g))
	}
	if psc.FSGroup != nil {
		groups = append(groups, uint32(*psc.FSGroup))
	}
	if len(groups) > 0 {
		opts = append(opts, func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
			s.Process.User.AdditionalGids = append(s.Process.User.AdditionalGids, groups...)
			return nil
		})
	}

	privileged := csc.Privileged != nil && *csc.Privileged
	if privileged {
		opts = append(opts, oci.WithPrivileged, oci.WithAllKnownCapabilities, oci.WithAllDevicesAllowed, oci.WithHostDevices,
			oci.WithMaskedPaths(nil), oci.WithReadonlyPaths(nil), oci.WithWriteableSysfs, oci.WithWriteableCgroupfs)
	} else if caps := csc.Capabilities; caps != nil {
		if hasAll(caps.Drop) {
			opts = append(opts, oci.WithCapabilities(nil))
		} else if len(caps.Drop) > 0 {
			opts = append(opts, oci.WithDroppedCapabilities(capNames(caps.Drop)))
		}
		if hasAll(caps.Add) {
			opts = append(opts, oci.WithAllKnownCapabilities)
		} else if len(caps.Add) > 0 {
			opts = append(opts, oci.WithAddedCapabilities(capNames(caps.Add)))
		}
	}
	if !privileged && csc.AllowPrivilegeEscalation != nil && !*csc.AllowPrivilegeEscalation {
		opts = append(opts, oci.WithNoNewPrivileges)
	}
	if isReadOnlyRoot(pod, c) {
		opts = append(opts, oci.WithRootFSReadonly())
	}
	return opts, nil
}

func withUIDGID(uid, gid uint32) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		s.Process.User.UID, s.Process.User.GID = uid, gid
		return nil
	}
}

func isReadOnlyRoot(_ *corev1.Pod, c *corev1.Container) bool {
	return c.SecurityContext != nil && c.SecurityContext.ReadOnlyRootFilesystem != nil && *c.SecurityContext.ReadOnlyRootFilesystem
}

func hasAll(caps []corev1.Capability) bool {
	for _, c := range caps {
		if strings.EqualFold(string(c), "ALL") {
			return true
		}
	}
	return false
}

// capNames turns Kubernetes capability names ("NET_ADMIN") into the
// kernel's ("CAP_NET_ADMIN").
func capNames(caps []corev1.Capability) []string {
	out := make([]string, 0, len(caps))
	for _, c := range caps {
		n := strings.ToUpper(string(c))
		if !strings.HasPrefix(n, "CAP_") {
			n = "CAP_" + n
		}
		out = append(out, n)
	}
	return out
}
