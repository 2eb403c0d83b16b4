package statefulset

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
	"github.com/tugcluster/tug/pkg/controller/history"
	"github.com/tugcluster/tug/pkg/controller/replicaset"
)

// Name is the controller's name and the reporting component of its Events.
const Name = "statefulset-controller"

// kind is the ownerReference type of StatefulSets.
var kind = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"}

// Controller gives every StatefulSet its ordered, stably named pods.
type Controller struct {
	client     kubernetes.Interface
	history    history.Client
	setLister  appslisters.StatefulSetLister
	podIndexer cache.Indexer
	claims     corelisters.PersistentVolumeClaimLister
	revisions  appslisters.ControllerRevisionLister
	synced     []cache.InformerSynced
	queue      controller.Queue
	events     record.EventRecorder
	now        func() time.Time
	log        *slog.Logger
}

// New builds the controller and registers its informer handlers; it is a
// controller.Constructor.
func New(c *controller.Context) (controller.Controller, error) {
	setInf := c.Informers.Apps().V1().StatefulSets()
	podInf := c.Informers.Core().V1().Pods()
	if err := controller.AddControllerUIDIndex(podInf.Informer()); err != nil {
		return nil, err
	}
	pvcInf := c.Informers.Core().V1().PersistentVolumeClaims()
	revInf := c.Informers.Apps().V1().ControllerRevisions()
	sc := &Controller{
		client:     c.Client,
		history:    history.Client{Client: c.Client},
		setLister:  setInf.Lister(),
		podIndexer: podInf.Informer().GetIndexer(),
		claims:     pvcInf.Lister(),
		revisions:  revInf.Lister(),
		synced: []cache.InformerSynced{setInf.Informer().HasSynced, podInf.Informer().HasSynced,
			pvcInf.Informer().HasSynced, revInf.Informer().HasSynced},
		queue:  controller.NewQueue("statefulset"),
		events: c.Events(Name),
		now:    c.Clock(),
		log:    c.Log.With("controller", Name),
	}
	err := controller.AddHandlers(
		controller.Handler{Informer: setInf.Informer(), Funcs: sc.queue.Handlers()},
		controller.Handler{Informer: podInf.Informer(), Funcs: cache.ResourceEventHandlerFuncs{
			AddFunc: sc.podChanged, UpdateFunc: sc.updatePod, DeleteFunc: sc.podChanged}},
	)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	return sc, nil
}

// Name implements controller.Controller.
func (sc *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (sc *Controller) Run(ctx context.Context, workers int) error {
	return controller.Run(ctx, sc.log, sc.queue, workers, sc.sync, sc.synced...)
}

// owner returns the StatefulSet the controllerRef names, if it still
// exists.
func (sc *Controller) owner(namespace string, ref *metav1.OwnerReference) *appsv1.StatefulSet {
	return controller.ResolveControllerRef(ref, kind.Kind, sc.setLister.StatefulSets(namespace).Get)
}

// enqueueFor wakes the owner of pod, or every set that may adopt it.
func (sc *Controller) enqueueFor(pod *corev1.Pod) {
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		if set := sc.owner(pod.Namespace, ref); set != nil {
			sc.queue.Enqueue(set)
		}
		return
	}
	all, err := sc.setLister.StatefulSets(pod.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, set := range controller.Selecting(all, selectorOf, pod.Labels) {
		sc.queue.Enqueue(set)
	}
}

func (sc *Controller) podChanged(obj any) {
	if pod, ok := controller.ObjectOf(obj).(*corev1.Pod); ok {
		sc.enqueueFor(pod)
	}
}

func (sc *Controller) updatePod(old, cur any) {
	o, n := old.(*corev1.Pod), cur.(*corev1.Pod)
	if o.ResourceVersion == n.ResourceVersion {
		return
	}
	oldRef, curRef := metav1.GetControllerOfNoCopy(o), metav1.GetControllerOfNoCopy(n)
	if oldRef != nil && (curRef == nil || curRef.UID != oldRef.UID) {
		// Released or owner changed: the old owner recounts.
		if set := sc.owner(o.Namespace, oldRef); set != nil {
			sc.queue.Enqueue(set)
		}
	}
	sc.enqueueFor(n)
	set := sc.owner(n.Namespace, curRef)
	if set != nil && set.Spec.MinReadySeconds > 0 && !replicaset.IsPodReady(o) && replicaset.IsPodReady(n) {
		// A pod that just became ready turns available minReadySeconds later.
		sc.queue.EnqueueAfter(set, time.Duration(set.Spec.MinReadySeconds)*time.Second+time.Second)
	}
}

func selectorOf(set *appsv1.StatefulSet) *metav1.LabelSelector { return set.Spec.Selector }
