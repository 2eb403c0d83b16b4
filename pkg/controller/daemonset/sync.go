package daemonset

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/cache"

	"github.com/tugcluster/tug/pkg/controller/history"
	"github.com/tugcluster/tug/pkg/controller/replicaset"

	"github.com/tugcluster/tug/pkg/controller"
)

const (
	hashLabel       = history.HashLabel
	generationLabel = "pod-template-generation"
	// burst caps the pods created in one sync.
	burst = 250
	// parallelWrites bounds concurrent pod writes of one sync.
	parallelWrites = 16
)

// nodePods are the claimed pods aimed at one node.
type nodePods struct {
	live        []*corev1.Pod
	terminating int
}

func (dc *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	ds, err := dc.dsLister.DaemonSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		dc.pending.forget(key)
		return nil
	}
	if err != nil {
		return fmt.Errorf("get daemonset %s: %w", key, err)
	}
	selector, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil || selector.Empty() || ds.DeletionTimestamp != nil {
		return nil
	}
	nodes, err := dc.nodes.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("list nodes: %w", err)
	}
	pods, err := dc.claimPods(ctx, ds, selector)
	if err != nil {
		return err
	}
	canAdopt := func(ctx context.Context) error { return dc.canAdopt(ctx, ds) }
	revs, err := dc.history.Owned(ctx, dc.revisions, ds, kind, selector, canAdopt)
	if err != nil {
		return err
	}
	collisions := ptrValue(ds.Status.CollisionCount)
	cur, revs, err := dc.history.Resolve(ctx, ds, kind, &ds.Spec.Template, revs, &collisions)
	if err != nil {
		dc.updateCollisions(ctx, ds, collisions)
		return err
	}
	hash := history.Hash(cur)

	byNode := map[string]*nodePods{}
	for _, p := range pods {
		n := TargetNode(p)
		np := byNode[n]
		if np == nil {
			np = &nodePods{}
			byNode[n] = np
		}
		podKey, _ := cache.MetaNamespaceKeyFunc(p)
		if p.DeletionTimestamp != nil || dc.pending.deleting(podKey) {
			np.terminating++
		} else {
			np.live = append(np.live, p)
		}
	}
	surge, unavailable := dc.rollingLimits(ds, nodes)
	var remove []*corev1.Pod
	var createOn []string
	placements := map[string]Placement{}
	running := map[string][]*corev1.Pod{}
	for _, node := range nodes {
		pl := NodePlacement(node, ds)
		placements[node.Name] = pl
		np := byNode[node.Name]
		if np == nil {
			np = &nodePods{}
		}
		plan := planNode(pl, np.live, np.terminating, hash, surge > 0)
		for _, p := range plan.failed {
			dc.events.Eventf(ds, corev1.EventTypeWarning, "FailedDaemonPod",
				"Found failed daemon pod %s/%s on node %s, will try to kill it", p.Namespace, p.Name, node.Name)
		}
		remove = append(remove, plan.remove...)
		if plan.create && !dc.pending.creating(key, node.Name) {
			createOn = append(createOn, node.Name)
		}
		if pl.ShouldRun {
			running[node.Name] = slices.DeleteFunc(slices.Clone(np.live), func(p *corev1.Pod) bool {
				return slices.Contains(plan.remove, p)
			})
		}
	}
	// Pods aimed at nodes that are gone and never bound go; bound ones are
	// left to the cleanup of deleted nodes.
	for n, np := range byNode {
		if _, ok := placements[n]; ok {
			continue
		}
		for _, p := range np.live {
			if p.Spec.NodeName == "" {
				remove = append(remove, p)
			}
		}
	}
	if ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType && !dc.pending.anyCreating(key) {
		now := dc.now()
		moreRemove, moreCreate := rollingPlan(running, hash, surge, unavailable, func(p *corev1.Pod) bool {
			return replicaset.IsPodAvailable(p, ds.Spec.MinReadySeconds, now)
		})
		remove = append(remove, moreRemove...)
		for _, n := range moreCreate {
			if !dc.pending.creating(key, n) {
				createOn = append(createOn, n)
			}
		}
	}
	manageErr := errors.Join(dc.deletePods(ctx, ds, remove), dc.createPods(ctx, key, ds, hash, createOn))
	histErr := dc.cleanupHistory(ctx, ds, pods, cur, revs)
	statusErr := dc.updateStatus(ctx, ds, dc.calculateStatus(ds, nodes, placements, byNode, hash, collisions))
	return errors.Join(manageErr, histErr, statusErr)
}

func ptrValue(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

// rollingLimits resolves maxSurge and maxUnavailable against the number
// of nodes that should run the daemon (rounding up); both zero means one
// unavailable at a time. OnDelete yields 0, 1.
func (dc *Controller) rollingLimits(ds *appsv1.DaemonSet, nodes []*corev1.Node) (surge, unavailable int) {
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || ru == nil {
		return 0, 1
	}
	desired := 0
	for _, n := range nodes {
		if NodePlacement(n, ds).ShouldRun {
			desired++
		}
	}
	scaled := func(v *intstr.IntOrString) int {
		if v == nil {
			return 0
		}
		n, err := intstr.GetScaledValueFromIntOrPercent(v, desired, true)
		if err != nil {
			return 0
		}
		return n
	}
	surge, unavailable = scaled(ru.MaxSurge), scaled(ru.MaxUnavailable)
	if surge == 0 && unavailable == 0 {
		unavailable = 1
	}
	return surge, unavailable
}

// claimPods returns the pods ds controls, adopting and releasing as the
// selector says, oldest first.
func (dc *Controller) claimPods(ctx context.Context, ds *appsv1.DaemonSet, selector labels.Selector) ([]*corev1.Pod, error) {
	pods, err := replicaset.ClaimPods(ctx, dc.client, dc.podIndexer, ds, kind, selector, nil,
		func(ctx context.Context) error { return dc.canAdopt(ctx, ds) })
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(pods, func(a, b *corev1.Pod) int {
		if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	return pods, nil
}

// canAdopt rechecks with a live read that ds may still adopt.
func (dc *Controller) canAdopt(ctx context.Context, ds *appsv1.DaemonSet) error {
	fresh, err := dc.client.AppsV1().DaemonSets(ds.Namespace).Get(ctx, ds.Name, metav1.GetOptions{})
	return controller.RecheckOwner("DaemonSet", ds, fresh, err)
}

// newPod builds the daemon pod of ds for node.
func newPod(ds *appsv1.DaemonSet, hash, node string) *corev1.Pod {
	pod := replicaset.PodFromTemplate(&ds.Spec.Template, ds, kind)
	pod.Labels = maps.Clone(pod.Labels)
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[hashLabel] = hash
	pod.Labels[generationLabel] = strconv.FormatInt(ds.Generation, 10)
	pod.Spec.Tolerations = withDaemonTolerations(pod.Spec.Tolerations, pod.Spec.HostNetwork)
	pod.Spec.Affinity = pinnedAffinity(pod.Spec.Affinity, node)
	return pod
}

func (dc *Controller) createPods(ctx context.Context, key string, ds *appsv1.DaemonSet, hash string, nodes []string) error {
	if len(nodes) > burst {
		nodes = nodes[:burst]
		dc.queue.AddAfter(key, time.Second)
	}
	return parallel(nodes, func(node string) error {
		dc.pending.expectCreate(key, node)
		created, err := dc.client.CoreV1().Pods(ds.Namespace).Create(ctx, newPod(ds, hash, node), metav1.CreateOptions{})
		if err != nil {
			dc.pending.created(key, node)
			dc.events.Eventf(ds, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
			return fmt.Errorf("create daemon pod for node %s: %w", node, err)
		}
		dc.events.Eventf(ds, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %s", created.Name)
		return nil
	})
}

func (dc *Controller) deletePods(ctx context.Context, ds *appsv1.DaemonSet, pods []*corev1.Pod) error {
	return parallel(pods, func(p *corev1.Pod) error {
		podKey, _ := cache.MetaNamespaceKeyFunc(p)
		dc.pending.expectDelete(podKey)
		err := dc.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{
			Preconditions: &metav1.Preconditions{UID: &p.UID}})
		switch {
		case err == nil:
			dc.events.Eventf(ds, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %s", p.Name)
		case apierrors.IsNotFound(err):
		default:
			dc.pending.deleted(podKey)
			dc.events.Eventf(ds, corev1.EventTypeWarning, "FailedDelete", "Error deleting: %v", err)
			return fmt.Errorf("delete pod %s: %w", p.Name, err)
		}
		return nil
	})
}

// parallel runs fn on every item with bounded concurrency and joins the
// errors.
func parallel[T any](items []T, fn func(T) error) error {
	sem := make(chan struct{}, parallelWrites)
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	for i, it := range items {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = fn(it)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// cleanupHistory deletes the revisions beyond revisionHistoryLimit that
// no pod runs and that are not current.
func (dc *Controller) cleanupHistory(ctx context.Context, ds *appsv1.DaemonSet, pods []*corev1.Pod,
	cur *appsv1.ControllerRevision, revs []*appsv1.ControllerRevision) error {
	liveHashes := map[string]bool{}
	for _, p := range pods {
		liveHashes[podHash(p)] = true
	}
	live := map[string]bool{cur.Name: true}
	for _, r := range revs {
		if liveHashes[history.Hash(r)] {
			live[r.Name] = true
		}
	}
	limit := 10
	if ds.Spec.RevisionHistoryLimit != nil {
		limit = int(*ds.Spec.RevisionHistoryLimit)
	}
	var errs []error
	for _, r := range history.Stale(revs, live, limit) {
		errs = append(errs, dc.history.Delete(ctx, r))
	}
	return errors.Join(errs...)
}
