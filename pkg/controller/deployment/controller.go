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
	queue     controller.Queue
	events    record.EventRecorder
	now       func() time.Time
	log       *slog.Logger
}

// New builds the controller and registers its informer handlers; it is a
// controller.Constructor.
func New(c *controller.Context) (controller.Controller, error) {
	dInf := c.Informers.Apps().V1().Deployments()
	rsInf := c.Informers.Apps().V1().ReplicaSets()
	podInf := c.Informers.Core().V1().Pods()
	dc := &Controller{
		client:    c.Client,
		dLister:   dInf.Lister(),
		rsLister:  rsInf.Lister(),
		podLister: podInf.Lister(),
		synced:    []cache.InformerSynced{dInf.Informer().HasSynced, rsInf.Informer().HasSynced, podInf.Informer().HasSynced},
		queue:     controller.NewQueue("deployment"),
		events:    c.Events(Name),
		now:       c.Clock(),
		log:       c.Log.With("controller", Name),
	}
	err := controller.AddHandlers(
		controller.Handler{Informer: dInf.Informer(), Funcs: dc.queue.Handlers()},
		controller.Handler{Informer: rsInf.Informer(), Funcs: cache.ResourceEventHandlerFuncs{
			AddFunc: dc.replicaSetChanged, UpdateFunc: dc.replicaSetUpdated, DeleteFunc: dc.replicaSetChanged}},
		controller.Handler{Informer: podInf.Informer(), Funcs: cache.ResourceEventHandlerFuncs{DeleteFunc: dc.podDeleted}},
	)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	return dc, nil
}

// Name implements controller.Controller.
func (dc *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (dc *Controller) Run(ctx context.Context, workers int) error {
	return controller.Run(ctx, dc.log, dc.queue, workers, dc.sync, dc.synced...)
}

// owner returns the Deployment a controllerRef names, if still the same.
func (dc *Controller) owner(namespace string, ref *metav1.OwnerReference) *appsv1.Deployment {
	return controller.ResolveControllerRef(ref, kind.Kind, dc.dLister.Deployments(namespace).Get)
}

func (dc *Controller) replicaSetChanged(obj any) {
	rs, ok := controller.ObjectOf(obj).(*appsv1.ReplicaSet)
	if !ok {
		return
	}
	if ref := metav1.GetControllerOfNoCopy(rs); ref != nil {
		if d := dc.owner(rs.Namespace, ref); d != nil {
			dc.queue.Enqueue(d)
		}
		return
	}
	// An orphan: every Deployment that could adopt it looks at it.
	all, err := dc.dLister.Deployments(rs.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, d := range controller.Selecting(all, selectorOf, rs.Labels) {
		dc.queue.Enqueue(d)
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
			dc.queue.Enqueue(d)
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
	rs := controller.ResolveControllerRef(metav1.GetControllerOfNoCopy(pod), "ReplicaSet", dc.rsLister.ReplicaSets(pod.Namespace).Get)
	if rs == nil {
		return
	}
	d := dc.owner(rs.Namespace, metav1.GetControllerOfNoCopy(rs))
	if d != nil && d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		dc.queue.Enqueue(d)
	}
}

func selectorOf(d *appsv1.Deployment) *metav1.LabelSelector { return d.Spec.Selector }
