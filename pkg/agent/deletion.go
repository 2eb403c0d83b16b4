package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// finishDeletion stops everything the pod runs; a pod still in the API
// (deletionTimestamp set) is then deleted for good, with grace 0 and a
// UID precondition so a new pod of the same name is never hit.
func (a *Agent) finishDeletion(ctx context.Context, key string, st *podState, pod *corev1.Pod, goneFromAPI bool) error {
	if err := a.teardown(ctx, st, pod); err != nil {
		return err
	}
	if !goneFromAPI {
		uid := pod.UID
		err := a.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
			GracePeriodSeconds: new(int64),
			Preconditions:      &metav1.Preconditions{UID: &uid},
		})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("delete pod %s: %w", key, err)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pods[key] != st {
		return nil
	}
	if st.replacement != nil {
		next := newPodState(st.replacement)
		_, next.deleting = a.deleted[next.uid]
		a.pods[key] = next
		a.queue.Add(key)
	} else {
		delete(a.pods, key)
	}
	return nil
}

// teardown stops containers (with the pod's grace period), then stops
// and removes the sandbox, and any other sandbox the runtime holds for
// the pod's UID (one left by an earlier run of the agent).
func (a *Agent) teardown(ctx context.Context, st *podState, pod *corev1.Pod) error {
	a.probeMgr.RemovePod(podKey(pod))
	grace := podGrace(pod)
	if pod.DeletionGracePeriodSeconds != nil {
		grace = time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
	}
	// Containers stop in parallel, so preStop hooks of several
	// containers share one grace period instead of adding up.
	if err := a.stopAll(ctx, st, pod, st.app, pod.Spec.Containers, grace); err != nil {
		return err
	}
	if err := a.stopAll(ctx, st, pod, st.init, pod.Spec.InitContainers, grace); err != nil {
		return err
	}
	if st.sandbox.ID != "" {
		if err := a.removeSandbox(ctx, st.sandbox); err != nil {
			return err
		}
		a.mu.Lock()
		delete(a.sandboxes, st.sandbox.ID)
		a.mu.Unlock()
		st.sandbox = runtime.Sandbox{}
	}
	if err := a.removeSandboxesOf(ctx, st.uid); err != nil {
		return err
	}
	// Volumes go last: nothing uses them any more.
	if err := a.tearDownVolumes(ctx, string(st.uid)); err != nil {
		return fmt.Errorf("tear down volumes: %w", err)
	}
	st.volumesReady = false
	return nil
}

// removeSandbox stops and removes one sandbox with what it still holds.
func (a *Agent) removeSandbox(ctx context.Context, sb runtime.Sandbox) error {
	if err := a.rt.StopPodSandbox(ctx, sb.ID); err != nil {
		return fmt.Errorf("stop sandbox %s: %w", sb.ID, err)
	}
	if err := a.rt.RemovePodSandbox(ctx, sb.ID); err != nil {
		return fmt.Errorf("remove sandbox %s: %w", sb.ID, err)
	}
	a.opts.Logger.Debug("sandbox removed", "node", a.opts.NodeName, "pod", sb.Namespace+"/"+sb.Name, "uid", sb.PodUID, "sandbox", sb.ID)
	return nil
}

// removeSandboxesOf removes every sandbox the runtime holds for a pod
// UID, with its volumes.
func (a *Agent) removeSandboxesOf(ctx context.Context, uid types.UID) error {
	a.mu.Lock()
	delete(a.orphans, string(uid))
	a.mu.Unlock()
	sbs, err := a.rt.ListPodSandboxes(ctx)
	if err != nil {
		return fmt.Errorf("list sandboxes: %w", err)
	}
	var errs []error
	for _, sb := range sbs {
		if sb.PodUID == string(uid) {
			errs = append(errs, a.removeSandbox(ctx, sb))
		}
	}
	return errors.Join(errs...)
}

// removeOrphanSandboxes removes the sandboxes (with their containers and
// volumes) of pods the agent does not know: pods deleted while the agent
// was down, or anything created for a pod after its deletion. It runs
// once the pod source has delivered its first list, and at each resync.
func (a *Agent) removeOrphanSandboxes(ctx context.Context) error {
	a.mu.Lock()
	synced := a.synced
	a.mu.Unlock()
	if !synced {
		return nil
	}
	sbs, err := a.rt.ListPodSandboxes(ctx)
	if err != nil {
		return fmt.Errorf("list sandboxes: %w", err)
	}
	// Pods known after the listing: a sandbox listed for a UID not among
	// them has no pod that could still use or adopt it.
	a.mu.Lock()
	known := make(map[string]bool, len(a.pods))
	for _, st := range a.pods {
		known[string(st.uid)] = true
	}
	var orphans []runtime.Sandbox
	for _, sb := range sbs {
		if !known[sb.PodUID] {
			orphans = append(orphans, sb)
			delete(a.orphans, sb.PodUID)
		}
	}
	a.mu.Unlock()
	var errs []error
	for _, sb := range orphans {
		a.opts.Logger.Debug("remove orphaned sandbox", "node", a.opts.NodeName, "pod", sb.Namespace+"/"+sb.Name, "uid", sb.PodUID, "sandbox", sb.ID)
		if err := a.discard(ctx, sb); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
