package replicaset

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
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/tugcluster/tug/pkg/controller"
)

// Name is the controller's name and the reporting component of its Events.
const Name = "replicaset-controller"

// burstReplicas caps the pods created or deleted in one sync.
const burstReplicas = 500

// kind is the ownerReference type of ReplicaSets.
var kind = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"}

// Controller keeps the pods of every ReplicaSet at spec.replicas.
type Controller struct {
	client       kubernetes.Interface
	rsLister     appslisters.ReplicaSetLister
	podIndexer   cache.Indexer
	synced       []cache.InformerSynced
	queue        controller.Queue
	expectations *controller.Expectations[string]
	events       record.EventRecorder
	now          func() time.Time
	log          *slog.Logger
}

// New builds the controller and registers its informer handlers; it is a
// controller.Constructor.
func New(c *controller.Context) (controller.Controller, error) {
	now := c.Clock()
	rsInf := c.Informers.Apps().V1().ReplicaSets()
	podInf := c.Informers.Core().V1().Pods()
	if err := controller.AddControllerUIDIndex(podInf.Informer()); err != nil {
		return nil, err
	}
	rc := &Controller{
		client:       c.Client,
		rsLister:     rsInf.Lister(),
		podIndexer:   podInf.Informer().GetIndexer(),
		synced:       []cache.InformerSynced{rsInf.Informer().HasSynced, podInf.Informer().HasSynced},
		queue:        controller.NewQueue("replicaset"),
		expectations: controller.NewExpectations[string](now),
		events:       c.Events(Name),
		now:          now,
		log:          c.Log.With("controller", Name),
	}
	rsHandlers := rc.queue.Handlers()
	rsHandlers.DeleteFunc = rc.deleteReplicaSet
	err := controller.AddHandlers(
		controller.Handler{Informer: rsInf.Informer(), Funcs: rsHandlers},
		controller.Handler{Informer: podInf.Informer(), Funcs: cache.ResourceEventHandlerFuncs{
			AddFunc: rc.addPod, UpdateFunc: rc.updatePod, DeleteFunc: rc.deletePod}},
	)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	return rc, nil
}

// Name implements controller.Controller.
func (rc *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (rc *Controller) Run(ctx context.Context, workers int) error {
	return controller.Run(ctx, rc.log, rc.queue, workers, rc.sync, rc.synced...)
}

func (rc *Controller) deleteReplicaSet(obj any) {
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		rc.expectations.Forget(key)
		rc.queue.Add(key)
	}
}

// owner returns the ReplicaSet that the controllerRef names, if it is
// still the same object.
func (rc *Controller) owner(namespace string, ref *metav1.OwnerReference) *appsv1.ReplicaSet {
	return controller.ResolveControllerRef(ref, kind.Kind, rc.rsLister.ReplicaSets(namespace).Get)
}

// matchingReplicaSets returns the ReplicaSets whose selector matches an
// orphan pod, so one of them may adopt it.
func (rc *Controller) matchingReplicaSets(pod *corev1.Pod) []*appsv1.ReplicaSet {
	all, err := rc.rsLister.ReplicaSets(pod.Namespace).List(labels.Everything())
	if err != nil {
		return nil
	}
	return controller.Selecting(all, selectorOf, pod.Labels)
}

func selectorOf(rs *appsv1.ReplicaSet) *metav1.LabelSelector { return rs.Spec.Selector }

func (rc *Controller) addPod(obj any) {
	pod := obj.(*corev1.Pod)
	if pod.DeletionTimestamp != nil {
		rc.deletePod(pod)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		if rs := rc.owner(pod.Namespace, ref); rs != nil {
			key, _ := cache.MetaNamespaceKeyFunc(rs)
			rc.expectations.CreationObserved(key)
			rc.queue.Add(key)
		}
		return
	}
	for _, rs := range rc.matchingReplicaSets(pod) {
		rc.queue.Enqueue(rs)
	}
}

func (rc *Controller) updatePod(old, cur any) {
	oldPod, curPod := old.(*corev1.Pod), cur.(*corev1.Pod)
	if oldPod.ResourceVersion == curPod.ResourceVersion {
		return
	}
	labelsChanged := !labels.Equals(oldPod.Labels, curPod.Labels)
	if curPod.DeletionTimestamp != nil {
		rc.deletePod(curPod)
		if labelsChanged {
			rc.deletePod(oldPod)
		}
		return
	}
	oldRef, curRef := metav1.GetControllerOfNoCopy(oldPod), metav1.GetControllerOfNoCopy(curPod)
	refChanged := (oldRef == nil) != (curRef == nil) || (oldRef != nil && oldRef.UID != curRef.UID)
	if refChanged && oldRef != nil {
		if rs := rc.owner(oldPod.Namespace, oldRef); rs != nil {
			rc.queue.Enqueue(rs)
		}
	}
	if curRef != nil {
		rs := rc.owner(curPod.Namespace, curRef)
		if rs == nil {
			return
		}
		rc.queue.Enqueue(rs)
		// A pod that just became ready turns available minReadySeconds later.
		if !IsPodReady(oldPod) && IsPodReady(curPod) && rs.Spec.MinReadySeconds > 0 {
			rc.queue.EnqueueAfter(rs, time.Duration(rs.Spec.MinReadySeconds)*time.Second+time.Second)
		}
		return
	}
	if labelsChanged || refChanged {
		for _, rs := range rc.matchingReplicaSets(curPod) {
			rc.queue.Enqueue(rs)
		}
	}
}

func (rc *Controller) deletePod(obj any) {
	pod, ok := controller.ObjectOf(obj).(*corev1.Pod)
	if !ok {
		return
	}
	rs := rc.owner(pod.Namespace, metav1.GetControllerOfNoCopy(pod))
	if rs == nil {
		return
	}
	key, _ := cache.MetaNamespaceKeyFunc(rs)
	podKey, _ := cache.MetaNamespaceKeyFunc(pod)
	rc.expectations.DeletionObserved(key, podKey)
	rc.queue.Add(key)
}
