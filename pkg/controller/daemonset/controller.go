package daemonset

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/tugcluster/tug/pkg/controller"
	"github.com/tugcluster/tug/pkg/controller/history"
)

// Name is the controller's name and the reporting component of its Events.
const Name = "daemonset-controller"

// kind is the ownerReference type of DaemonSets.
var kind = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"}

// Controller keeps one pod of every DaemonSet on each eligible node.
type Controller struct {
	client     kubernetes.Interface
	history    history.Client
	dsLister   appslisters.DaemonSetLister
	podIndexer cache.Indexer
	nodes      corelisters.NodeLister
	revisions  appslisters.ControllerRevisionLister
	synced     []cache.InformerSynced
	queue      controller.Queue
	pending    *pending
	events     record.EventRecorder
	now        func() time.Time
	log        *slog.Logger
}

// New builds the controller and registers its informer handlers; it is a
// controller.Constructor.
func New(c *controller.Context) (controller.Controller, error) {
	now := c.Clock()
	dsInf := c.Informers.Apps().V1().DaemonSets()
	podInf := c.Informers.Core().V1().Pods()
	if err := controller.AddControllerUIDIndex(podInf.Informer()); err != nil {
		return nil, err
	}
	nodeInf := c.Informers.Core().V1().Nodes()
	revInf := c.Informers.Apps().V1().ControllerRevisions()
	dc := &Controller{
		client:     c.Client,
		history:    history.Client{Client: c.Client},
		dsLister:   dsInf.Lister(),
		podIndexer: podInf.Informer().GetIndexer(),
		nodes:      nodeInf.Lister(),
		revisions:  revInf.Lister(),
		synced: []cache.InformerSynced{dsInf.Informer().HasSynced, podInf.Informer().HasSynced,
			nodeInf.Informer().HasSynced, revInf.Informer().HasSynced},
		queue:   controller.NewQueue("daemonset"),
		pending: newPending(now),
		events:  c.Events(Name),
		now:     now,
		log:     c.Log.With("controller", Name),
	}
	dsHandlers := dc.queue.Handlers()
	dsHandlers.DeleteFunc = dc.deleteDaemonSet
	err := controller.AddHandlers(
		controller.Handler{Informer: dsInf.Informer(), Funcs: dsHandlers},
		controller.Handler{Informer: podInf.Informer(), Funcs: cache.ResourceEventHandlerFuncs{
			AddFunc: dc.addPod, UpdateFunc: dc.updatePod, DeleteFunc: dc.deletePod}},
		controller.Handler{Informer: nodeInf.Informer(), Funcs: cache.ResourceEventHandlerFuncs{
			AddFunc:    func(any) { dc.enqueueAll() },
			UpdateFunc: dc.updateNode,
			DeleteFunc: func(any) { dc.enqueueAll() },
		}},
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

func (dc *Controller) enqueueAll() {
	all, err := dc.dsLister.List(labels.Everything())
	if err != nil {
		return
	}
	for _, ds := range all {
		dc.queue.Enqueue(ds)
	}
}

func (dc *Controller) deleteDaemonSet(obj any) {
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		dc.pending.forget(key)
		dc.queue.Add(key)
	}
}

// updateNode wakes every DaemonSet when something that decides placement
// changed; status heartbeats do not.
func (dc *Controller) updateNode(old, cur any) {
	o, n := old.(*corev1.Node), cur.(*corev1.Node)
	if labels.Equals(o.Labels, n.Labels) && equality.Semantic.DeepEqual(o.Spec, n.Spec) {
		return
	}
	dc.enqueueAll()
}

// owner returns the DaemonSet the controllerRef names, if it still exists.
func (dc *Controller) owner(namespace string, ref *metav1.OwnerReference) *appsv1.DaemonSet {
	return controller.ResolveControllerRef(ref, kind.Kind, dc.dsLister.DaemonSets(namespace).Get)
}

// enqueueMatching wakes the DaemonSets whose selector matches an orphan.
func (dc *Controller) enqueueMatching(pod *corev1.Pod) {
	all, err := dc.dsLister.DaemonSets(pod.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, ds := range controller.Selecting(all, selectorOf, pod.Labels) {
		dc.queue.Enqueue(ds)
	}
}

func selectorOf(ds *appsv1.DaemonSet) *metav1.LabelSelector { return ds.Spec.Selector }

func (dc *Controller) addPod(obj any) {
	pod := obj.(*corev1.Pod)
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil {
		dc.enqueueMatching(pod)
		return
	}
	if ds := dc.owner(pod.Namespace, ref); ds != nil {
		key, _ := cache.MetaNamespaceKeyFunc(ds)
		dc.pending.created(key, TargetNode(pod))
		dc.queue.Add(key)
	}
}

func (dc *Controller) updatePod(old, cur any) {
	o, n := old.(*corev1.Pod), cur.(*corev1.Pod)
	if o.ResourceVersion == n.ResourceVersion {
		return
	}
	oldRef, curRef := metav1.GetControllerOfNoCopy(o), metav1.GetControllerOfNoCopy(n)
	if oldRef != nil && (curRef == nil || curRef.UID != oldRef.UID) {
		if ds := dc.owner(o.Namespace, oldRef); ds != nil {
			dc.queue.Enqueue(ds)
		}
	}
	if curRef == nil {
		if !labels.Equals(o.Labels, n.Labels) || oldRef != nil {
			dc.enqueueMatching(n)
		}
		return
	}
	ds := dc.owner(n.Namespace, curRef)
	if ds == nil {
		return
	}
	dc.queue.Enqueue(ds)
	if ds.Spec.MinReadySeconds > 0 && n.DeletionTimestamp == nil {
		// A pod that just became ready turns available minReadySeconds later.
		dc.queue.EnqueueAfter(ds, time.Duration(ds.Spec.MinReadySeconds)*time.Second+time.Second)
	}
}

func (dc *Controller) deletePod(obj any) {
	pod, ok := controller.ObjectOf(obj).(*corev1.Pod)
	if !ok {
		return
	}
	if podKey, err := cache.MetaNamespaceKeyFunc(pod); err == nil {
		dc.pending.deleted(podKey)
	}
	if ds := dc.owner(pod.Namespace, metav1.GetControllerOfNoCopy(pod)); ds != nil {
		dc.queue.Enqueue(ds)
	}
}
