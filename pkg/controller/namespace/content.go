package namespace

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugcluster/tug/pkg/controller"
)

var podsResource = schema.GroupVersionResource{Version: "v1", Resource: "pods"}

// report is what one pass over a namespace's content found.
type report struct {
	discoveryErr error
	contentErr   error
	// remaining counts objects still present by "resource.group".
	remaining map[string]int
	// finalizers counts remaining objects by the finalizers they carry.
	finalizers map[string]int
	// retryAfter, when set, is when a pod's grace period ends.
	retryAfter time.Duration
}

func (r *report) err() error { return errors.Join(r.discoveryErr, r.contentErr) }

func (r *report) empty() bool { return len(r.remaining) == 0 }

// deleteContent deletes everything in namespace ns and reports what is
// left.
func (c *Controller) deleteContent(ctx context.Context, ns string) *report {
	r := &report{remaining: map[string]int{}, finalizers: map[string]int{}}
	resources, err := controller.DiscoverResources(c.discovery, "delete", "list")
	if err != nil {
		r.discoveryErr = err
		c.discovery.Invalidate()
	}
	var failed []error
	for _, res := range resources {
		if !res.Namespaced {
			continue
		}
		if err := c.deleteResource(ctx, ns, res, r); err != nil {
			failed = append(failed, fmt.Errorf("%s: %w", res.GroupResource(), err))
			if apierrors.IsNotFound(err) {
				c.discovery.Invalidate() // the resource may be gone
			}
		}
	}
	if len(failed) > 0 {
		r.contentErr = fmt.Errorf("failed to delete all resource types, %d remaining: %w", len(failed), errors.Join(failed...))
	}
	return r
}

// deleteResource deletes the objects of one resource in ns and counts what
// is still there.
func (c *Controller) deleteResource(ctx context.Context, ns string, res controller.APIResource, r *report) error {
	client := c.metadata.Resource(res.GroupVersionResource).Namespace(ns)
	background := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &background}
	if res.Supports("deletecollection") {
		err := client.DeleteCollection(ctx, opts, metav1.ListOptions{})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsMethodNotSupported(err) {
			return fmt.Errorf("delete collection: %w", err)
		}
	}
	list, err := client.List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	for _, item := range list.Items {
		if item.DeletionTimestamp == nil {
			o := opts
			o.Preconditions = metav1.NewUIDPreconditions(string(item.UID))
			if err := client.Delete(ctx, item.Name, o); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				return fmt.Errorf("delete %s: %w", item.Name, err)
			}
		}
		for _, f := range item.Finalizers {
			r.finalizers[f]++
		}
	}
	if n := len(list.Items); n > 0 {
		r.remaining[res.Resource+"."+res.Group] += n
	}
	if res.GroupVersionResource == podsResource && len(list.Items) > 0 {
		return c.forceDeleteOrphanedPods(ctx, ns, r)
	}
	return nil
}

// forceDeleteOrphanedPods removes pods whose grace period is over and
// whose node does not exist: no agent will ever finish deleting them.
func (c *Controller) forceDeleteOrphanedPods(ctx context.Context, ns string, r *report) error {
	pods, err := c.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list pods: %w", err)
	}
	now := c.now()
	nodeExists := map[string]bool{}
	for i := range pods.Items {
		pod := &pods.Items[i]
		if pod.DeletionTimestamp == nil || pod.Spec.NodeName == "" {
			continue
		}
		if wait := pod.DeletionTimestamp.Sub(now); wait > 0 {
			if r.retryAfter == 0 || wait < r.retryAfter {
				r.retryAfter = wait + 100*time.Millisecond
			}
			continue
		}
		exists, ok := nodeExists[pod.Spec.NodeName]
		if !ok {
			_, err := c.client.CoreV1().Nodes().Get(ctx, pod.Spec.NodeName, metav1.GetOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("get node %s: %w", pod.Spec.NodeName, err)
			}
			exists = err == nil
			nodeExists[pod.Spec.NodeName] = exists
		}
		if exists {
			continue
		}
		if err := c.forceDelete(ctx, pod); err != nil {
			return err
		}
	}
	return nil
}

func (c *Controller) forceDelete(ctx context.Context, pod *corev1.Pod) error {
	zero := int64(0)
	err := c.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero,
		Preconditions:      metav1.NewUIDPreconditions(string(pod.UID)),
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("force delete pod %s: %w", pod.Name, err)
	}
	c.log.Info("force-deleted pod of a missing node after its grace period",
		"namespace", pod.Namespace, "pod", pod.Name, "node", pod.Spec.NodeName)
	return nil
}
