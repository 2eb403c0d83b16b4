package deployment

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"github.com/tugcluster/tug/pkg/controller"
)

// Name is the controller's name and the reporting component of its Events.
const Name = "deployment-controller"

// kind is the ownerReference type of Deployments.
var kind = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}

// Controller rolls Deployments out through ReplicaSets.
type Controller struct {
	client    kubernetes.Interface
	dLister   appslisters.DeploymentLister
	rsLister  appslisters.ReplicaSetLister
	podLister corelisters.PodLister
	synced    []cache.InformerSynced
	queue     workqueue.TypedRateLimitingInterface[string]
	events    record.EventRecorder
	now       func() time.Time
	log       *slog.Logger
}

// New builds the controller and registers its informer handlers; it is a
// controller.Constructor.
func New(c *controller.Context) (controller.Controller, error) {
	now := c.Now
	if now == nil {
		now = time.Now
	}
	dInf := c.Informers.Apps().V1().Deployments()
	rsInf := c.Informers.Apps().V1().ReplicaSets()
	podInf := c.Informers.Core().V1().Pods()
	dc := &Controller{
		client:    c.Client,
		dLister:   dInf.Lister(),
		rsLister:  rsInf.Lister(),
		podLister: podInf.Lister(),
		synced:    []cache.InformerSynced{dInf.Informer().HasSynced, rsInf.Informer().HasSynced, podInf.Informer().HasSynced},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "deployment"}),
		events: c.Events(Name),
		now:    now,
		log:    c.Log.With("controller", Name),
	}
	handlers := []struct {
		inf cache.SharedIndexInformer
		h   cache.ResourceEventHandlerFuncs
	}{
		{dInf.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc: dc.enqueue, UpdateFunc: func(_, cur any) { dc.enqueue(cur) }, DeleteFunc: dc.enqueue}},
		{rsInf.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc: dc.replicaSetChanged, UpdateFunc: dc.replicaSetUpdated, DeleteFunc: dc.replicaSetChanged}},
		{podInf.Informer(), cache.ResourceEventHandlerFuncs{DeleteFunc: dc.podDeleted}},
	}
	for _, h := range handlers {
		if _, err := h.inf.AddEventHandler(h.h); err != nil {
			return nil, fmt.Errorf("deployment controller handlers: %w", err)
		}
	}
	return dc, nil
}

// Name implements controller.Controller.
func (dc *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (dc *Controller) Run(ctx context.Context, workers int) error {
	if !controller.WaitForSync(ctx, dc.synced...) {
		dc.queue.ShutDown()
		return nil
	}
	controller.RunWorkers(ctx, dc.log, dc.queue, workers, dc.sync)
	return nil
}

func (dc *Controller) enqueue(obj any) {
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		dc.queue.Add(key)
	}
}

// owner returns the Deployment a controllerRef names, if still the same.
func (dc *Controller) owner(namespace string, ref *metav1.OwnerReference) *appsv1.Deployment {
	if ref == nil || ref.Kind != kind.Kind {
		return nil
	}
	d, err := dc.dLister.Deployments(namespace).Get(ref.Name)
	if err != nil || d.UID != ref.UID {
		return nil
	}
	return d
}

func (dc *Controller) replicaSetChanged(obj any) {
	rs, ok := controller.ObjectOf(obj).(*appsv1.ReplicaSet)
	if !ok {
		return
	}
	if ref := metav1.GetControllerOfNoCopy(rs); ref != nil {
		if d := dc.owner(rs.Namespace, ref); d != nil {
			dc.enqueue(d)
		}
		return
	}
	// An orphan: every Deployment that could adopt it looks at it.
	all, err := dc.dLister.Deployments(rs.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, d := range all {
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(rs.Labels)) {
			dc.enqueue(d)
		}
	}
}

func (dc *Controller) replicaSetUpdated(old, cur any) {
	oldRS, curRS := old.(*appsv1.ReplicaSet), cur.(*appsv1.ReplicaSet)
	if oldRS.ResourceVersion == curRS.ResourceVersion {
		return
	}
	oldRef, curRef := metav1.GetControllerOfNoCopy(oldRS), metav1.GetControllerOfNoCopy(curRS)
	if oldRef != nil && (curRef == nil || oldRef.UID != curRef.UID) {
		if d := dc.owner(oldRS.Namespace, oldRef); d != nil {
			dc.enqueue(d)
		}
	}
	dc.replicaSetChanged(curRS)
}

// podDeleted wakes a Recreate Deployment waiting for its old pods to go.
func (dc *Controller) podDeleted(obj any) {
	pod, ok := controller.ObjectOf(obj).(*corev1.Pod)
	if !ok {
		return
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != "ReplicaSet" {
		return
	}
	rs, err := dc.rsLister.ReplicaSets(pod.Namespace).Get(ref.Name)
	if err != nil || rs.UID != ref.UID {
		return
	}
	d := dc.owner(rs.Namespace, metav1.GetControllerOfNoCopy(rs))
	if d != nil && d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		dc.enqueue(d)
	}
}
