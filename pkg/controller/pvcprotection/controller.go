package pvcprotection

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/tugcluster/tug/pkg/controller"
)

// Name is the controller's name.
const Name = "pvc-protection-controller"

// Finalizer keeps a claim while pods use it, as Kubernetes names it.
const Finalizer = "kubernetes.io/pvc-protection"

// Controller removes Finalizer from deleted claims no pod uses.
type Controller struct {
	client kubernetes.Interface
	claims corelisters.PersistentVolumeClaimLister
	pods   cache.Indexer
	synced []cache.InformerSynced
	queue  workqueue.TypedRateLimitingInterface[cache.ObjectName]
	log    *slog.Logger
}

// New is the controller's constructor.
func New(cc *controller.Context) (controller.Controller, error) {
	pvcInf := cc.Informers.Core().V1().PersistentVolumeClaims()
	podInf := cc.Informers.Core().V1().Pods()
	if err := addClaimIndex(podInf.Informer()); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	c := &Controller{
		client: cc.Client,
		claims: pvcInf.Lister(),
		pods:   podInf.Informer().GetIndexer(),
		synced: []cache.InformerSynced{pvcInf.Informer().HasSynced, podInf.Informer().HasSynced},
		queue:  controller.NewRateLimitingQueue[cache.ObjectName](Name),
		log:    cc.Log.With("controller", Name),
	}
	err := controller.AddHandlers(
		controller.Handler{Informer: pvcInf.Informer(), Funcs: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.claimChanged,
			UpdateFunc: func(_, cur any) { c.claimChanged(cur) },
		}},
		controller.Handler{Informer: podInf.Informer(), Funcs: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.podChanged,
			UpdateFunc: c.podUpdated,
			DeleteFunc: c.podDeleted,
		}},
	)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	return c, nil
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (c *Controller) Run(ctx context.Context, workers int) error {
	return controller.Run(ctx, c.log, c.queue, workers, c.sync, c.synced...)
}

func (c *Controller) claimChanged(obj any) {
	if pvc, ok := obj.(*corev1.PersistentVolumeClaim); ok && (deletionPending(pvc) || unprotected(pvc)) {
		c.queue.Add(cache.MetaObjectToName(pvc))
	}
}

// podChanged re-checks the claims of a pod that has terminated: it no
// longer holds them.
func (c *Controller) podChanged(obj any) {
	if pod, ok := obj.(*corev1.Pod); ok && terminated(pod) {
		c.enqueueClaims(pod)
	}
}

func (c *Controller) podUpdated(old, cur any) {
	c.podChanged(cur)
	// A pod deleted and created again under the same name shows as an
	// update; the claims of the one that went may be free now.
	if o, ok := old.(*corev1.Pod); ok {
		if p, ok := cur.(*corev1.Pod); ok && o.UID != p.UID {
			c.enqueueClaims(o)
		}
	}
}

func (c *Controller) podDeleted(obj any) {
	if pod, ok := controller.ObjectOf(obj).(*corev1.Pod); ok {
		c.enqueueClaims(pod)
	}
}

func (c *Controller) enqueueClaims(pod *corev1.Pod) {
	for _, name := range claimNames(pod) {
		c.queue.Add(cache.ObjectName{Namespace: pod.Namespace, Name: name})
	}
}

// unprotected reports whether a live claim lacks the finalizer: one
// created before claims got it at admission.
func unprotected(pvc *corev1.PersistentVolumeClaim) bool {
	return pvc.DeletionTimestamp == nil && !controller.HasFinalizer(pvc, Finalizer)
}

// deletionPending reports whether the claim was deleted and still waits
// for this controller.
func deletionPending(pvc *corev1.PersistentVolumeClaim) bool {
	return pvc.DeletionTimestamp != nil && controller.HasFinalizer(pvc, Finalizer)
}

// sync removes the finalizer of one deleted claim once no pod uses it.
// While a pod does, it waits for that pod's events rather than retrying.
func (c *Controller) sync(ctx context.Context, key cache.ObjectName) error {
	pvc, err := c.claims.PersistentVolumeClaims(key.Namespace).Get(key.Name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if unprotected(pvc) {
		cur := pvc.DeepCopy()
		cur.Finalizers = append(cur.Finalizers, Finalizer)
		_, err := c.client.CoreV1().PersistentVolumeClaims(pvc.Namespace).Update(ctx, cur, metav1.UpdateOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("add %s to claim %s: %w", Finalizer, key, err)
		}
		return nil
	}
	if !deletionPending(pvc) {
		return nil
	}
	used, err := c.inUse(ctx, pvc)
	if err != nil || used {
		return err
	}
	cur := pvc.DeepCopy()
	cur.Finalizers = slices.DeleteFunc(cur.Finalizers, func(f string) bool { return f == Finalizer })
	_, err = c.client.CoreV1().PersistentVolumeClaims(pvc.Namespace).Update(ctx, cur, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove %s from claim %s: %w", Finalizer, key, err)
	}
	c.log.Info("claim no longer in use, finalizer removed", "claim", key.String())
	return nil
}

// inUse looks for a pod using the claim in the cache and, finding none,
// asks the API server: a pod created a moment ago may not be in the cache
// yet, and losing the claim under it would lose its data.
func (c *Controller) inUse(ctx context.Context, pvc *corev1.PersistentVolumeClaim) (bool, error) {
	objs, err := c.pods.ByIndex(podsByClaim, claimKey(pvc.Namespace, pvc.Name))
	if err != nil {
		return false, fmt.Errorf("pods by claim: %w", err)
	}
	for _, obj := range objs {
		if pod, ok := obj.(*corev1.Pod); ok && usesClaim(pod, pvc.Namespace, pvc.Name) {
			return true, nil
		}
	}
	list, err := c.client.CoreV1().Pods(pvc.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return false, fmt.Errorf("list pods of namespace %s: %w", pvc.Namespace, err)
	}
	for i := range list.Items {
		if usesClaim(&list.Items[i], pvc.Namespace, pvc.Name) {
			return true, nil
		}
	}
	return false, nil
}
