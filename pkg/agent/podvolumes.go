package agent

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/pkg/agent/runtime"
	"github.com/tugcluster/tug/pkg/agent/volumes"
)

// VolumeManager prepares pod volumes and container environments on the
// node; *volumes.Manager implements it. Without one (simulated nodes)
// containers get neither resolved env nor mounts.
type VolumeManager interface {
	SetUp(ctx context.Context, pod *corev1.Pod) (volumes.Volumes, error)
	MountsFor(pod *corev1.Pod, c *corev1.Container, v volumes.Volumes, env []string) ([]volumes.Mount, error)
	ResolveEnv(ctx context.Context, pod *corev1.Pod, c *corev1.Container) ([]string, error)
	TearDown(ctx context.Context, podUID string) error
	List() ([]string, error)
}

var _ VolumeManager = (*volumes.Manager)(nil)

// Bounds of the retry delay of a failed volume set-up.
const (
	mountRetryInitial = time.Second
	mountRetryMax     = 30 * time.Second
)

// setUpVolumes prepares the pod's volumes once per pod instance; a
// failure is a FailedMount Warning per volume and a retry later, and no
// container starts meanwhile. It returns when to retry (0: ready).
func (a *Agent) setUpVolumes(ctx context.Context, st *podState, pod *corev1.Pod) time.Duration {
	if a.opts.Volumes == nil || st.volumesReady {
		return 0
	}
	vols, err := a.opts.Volumes.SetUp(ctx, pod)
	for _, w := range vols.Warnings {
		a.event(pod, "", corev1.EventTypeWarning, "FailedMount", "%s", w)
	}
	if err != nil {
		for _, e := range flatten(err) {
			a.event(pod, "", corev1.EventTypeWarning, "FailedMount", "%v", e)
		}
		st.mountBackoff = nextBackoff(st.mountBackoff, mountRetryInitial, mountRetryMax)
		return st.mountBackoff
	}
	st.volumes, st.volumesReady, st.mountBackoff = vols, true, 0
	return 0
}

func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// containerEnvAndMounts resolves a container's environment (against the
// pod with the sandbox's and node's addresses filled in) and its volume
// mounts. An error is a CreateContainerConfigError.
func (a *Agent) containerEnvAndMounts(ctx context.Context, st *podState, spec *corev1.Container) ([]string, []runtime.Mount, error) {
	if a.opts.Volumes == nil {
		return nil, nil, nil
	}
	pod := st.pod.DeepCopy()
	if ip := st.sandbox.IP; ip != "" {
		pod.Status.PodIP, pod.Status.PodIPs = ip, []corev1.PodIP{{IP: ip}}
	}
	if a.hostIP != "" {
		pod.Status.HostIP, pod.Status.HostIPs = a.hostIP, []corev1.HostIP{{IP: a.hostIP}}
		if pod.Spec.HostNetwork {
			pod.Status.PodIP, pod.Status.PodIPs = a.hostIP, []corev1.PodIP{{IP: a.hostIP}}
		}
	}
	env, err := a.opts.Volumes.ResolveEnv(ctx, pod, spec)
	if err != nil {
		return nil, nil, err
	}
	ms, err := a.opts.Volumes.MountsFor(pod, spec, st.volumes, env)
	if err != nil {
		return nil, nil, err
	}
	mounts := make([]runtime.Mount, len(ms))
	for i, m := range ms {
		mounts[i] = runtime.Mount{HostPath: m.HostPath, ContainerPath: m.ContainerPath, ReadOnly: m.ReadOnly, Propagation: m.Propagation}
	}
	if env == nil {
		env = []string{}
	}
	return env, mounts, nil
}

// tearDownVolumes removes the pod's volumes once nothing runs for it.
func (a *Agent) tearDownVolumes(ctx context.Context, uid string) error {
	if a.opts.Volumes == nil {
		return nil
	}
	return a.opts.Volumes.TearDown(ctx, uid)
}

// cleanupOrphanVolumes tears down the volume directories of pods this
// agent neither runs nor may still adopt (left by a crash or by a pod
// deleted while the agent was down).
func (a *Agent) cleanupOrphanVolumes(ctx context.Context) {
	if a.opts.Volumes == nil {
		return
	}
	uids, err := a.opts.Volumes.List()
	if err != nil {
		a.opts.Logger.Warn("list pod volumes", "node", a.opts.NodeName, "err", err)
		return
	}
	a.mu.Lock()
	if !a.synced {
		a.mu.Unlock()
		return
	}
	known := map[string]bool{}
	for _, st := range a.pods {
		known[string(st.uid)] = true
		if st.replacement != nil {
			known[string(st.replacement.UID)] = true
		}
	}
	for uid := range a.orphans {
		known[uid] = true // torn down with its sandbox
	}
	a.mu.Unlock()
	var errs []error
	for _, uid := range uids {
		if !known[uid] {
			errs = append(errs, a.opts.Volumes.TearDown(ctx, uid))
		}
	}
	if err := errors.Join(errs...); err != nil {
		a.opts.Logger.Warn("remove orphaned pod volumes", "node", a.opts.NodeName, "err", err)
	}
}
