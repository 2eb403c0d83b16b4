package disruption

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	policylisters "k8s.io/client-go/listers/policy/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/tugcluster/tug/pkg/controller"
	"github.com/tugcluster/tug/pkg/controller/disruption/budget"
)

// Name is the controller's name and the reporting component of its Events.
const Name = "disruption-controller"

// Controller keeps the status of every PodDisruptionBudget current.
type Controller struct {
	client       kubernetes.Interface
	budgets      policylisters.PodDisruptionBudgetLister
	pods         corelisters.PodLister
	replicaSets  appslisters.ReplicaSetLister
	deployments  appslisters.DeploymentLister
	statefulSets appslisters.StatefulSetLister
	synced       []cache.InformerSynced
	queue        controller.Queue
	events       record.EventRecorder
	now          func() time.Time
	log          *slog.Logger
}

// New builds the controller and registers its informer handlers; it is a
// controller.Constructor.
func New(c *controller.Context) (controller.Controller, error) {
	pdbInf := c.Informers.Policy().V1().PodDisruptionBudgets()
	podInf := c.Informers.Core().V1().Pods()
	rsInf := c.Informers.Apps().V1().ReplicaSets()
	depInf := c.Informers.Apps().V1().Deployments()
	ssInf := c.Informers.Apps().V1().StatefulSets()
	dc := &Controller{
		client:       c.Client,
		budgets:      pdbInf.Lister(),
		pods:         podInf.Lister(),
		replicaSets:  rsInf.Lister(),
		deployments:  depInf.Lister(),
		statefulSets: ssInf.Lister(),
		synced: []cache.InformerSynced{pdbInf.Informer().HasSynced, podInf.Informer().HasSynced,
			rsInf.Informer().HasSynced, depInf.Informer().HasSynced, ssInf.Informer().HasSynced},
		queue:  controller.NewQueue("disruption"),
		events: c.Events(Name),
		now:    c.Clock(),
		log:    c.Log.With("controller", Name),
	}
	err := controller.AddHandlers(
		controller.Handler{Informer: pdbInf.Informer(), Funcs: dc.queue.Handlers()},
		controller.Handler{Informer: podInf.Informer(), Funcs: cache.ResourceEventHandlerFuncs{
			AddFunc: dc.addPod, UpdateFunc: dc.updatePod, DeleteFunc: dc.deletePod}},
		controller.Handler{Informer: rsInf.Informer(), Funcs: scaleHandlers(dc.scaleChanged, func(rs *appsv1.ReplicaSet) scaleKey {
			return scaleKey{rs.UID, replicasOf(rs.Spec.Replicas), rs.Spec.Template.Labels}
		})},
		controller.Handler{Informer: depInf.Informer(), Funcs: scaleHandlers(dc.scaleChanged, func(d *appsv1.Deployment) scaleKey {
			return scaleKey{d.UID, replicasOf(d.Spec.Replicas), d.Spec.Template.Labels}
		})},
		controller.Handler{Informer: ssInf.Informer(), Funcs: scaleHandlers(dc.scaleChanged, func(s *appsv1.StatefulSet) scaleKey {
			return scaleKey{s.UID, replicasOf(s.Spec.Replicas), s.Spec.Template.Labels}
		})},
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

// budgetsFor returns the budgets of the pod's namespace whose selector
// matches labels ls.
func (dc *Controller) budgetsFor(namespace string, ls map[string]string) []*policyv1.PodDisruptionBudget {
	all, err := dc.budgets.PodDisruptionBudgets(namespace).List(labels.Everything())
	if err != nil {
		return nil
	}
	var out []*policyv1.PodDisruptionBudget
	for _, pdb := range all {
		if sel, ok := budget.Selector(pdb); ok && sel.Matches(labels.Set(ls)) {
			out = append(out, pdb)
		}
	}
	return out
}

func (dc *Controller) enqueueFor(namespace string, ls map[string]string) {
	for _, pdb := range dc.budgetsFor(namespace, ls) {
		dc.queue.Enqueue(pdb)
	}
}

func (dc *Controller) addPod(obj any) {
	pod := obj.(*corev1.Pod)
	matching := dc.budgetsFor(pod.Namespace, pod.Labels)
	if len(matching) > 1 {
		dc.events.Eventf(pod, corev1.EventTypeWarning, "MultiplePodDisruptionBudgets",
			"Pod %q/%q matches multiple PodDisruptionBudgets; the eviction subresource refuses to evict it", pod.Namespace, pod.Name)
	}
	for _, pdb := range matching {
		dc.queue.Enqueue(pdb)
	}
}

func (dc *Controller) updatePod(old, cur any) {
	oldPod, curPod := old.(*corev1.Pod), cur.(*corev1.Pod)
	if oldPod.ResourceVersion == curPod.ResourceVersion {
		return
	}
	dc.enqueueFor(curPod.Namespace, curPod.Labels)
	if !labels.Equals(oldPod.Labels, curPod.Labels) {
		dc.enqueueFor(oldPod.Namespace, oldPod.Labels)
	}
}

func (dc *Controller) deletePod(obj any) {
	if pod, ok := controller.ObjectOf(obj).(*corev1.Pod); ok {
		dc.enqueueFor(pod.Namespace, pod.Labels)
	}
}

// scaleChanged requeues the budgets that count by controller scale and
// select the pods of a controller whose scale appeared, changed or went.
func (dc *Controller) scaleChanged(namespace string, templateLabels map[string]string) {
	for _, pdb := range dc.budgetsFor(namespace, templateLabels) {
		if countsScale(pdb) {
			dc.queue.Enqueue(pdb)
		}
	}
}

// scaleKey is what of a pod controller matters to budgets.
type scaleKey struct {
	uid      types.UID
	replicas int32
	labels   map[string]string
}

// scaleHandlers calls changed on add and delete of a controller, and on
// an update that changed its identity, scale or pod template labels.
func scaleHandlers[T metav1.Object](changed func(ns string, ls map[string]string), key func(T) scaleKey) cache.ResourceEventHandlerFuncs {
	notify := func(obj any) {
		if o, ok := controller.ObjectOf(obj).(T); ok {
			changed(o.GetNamespace(), key(o).labels)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: notify,
		UpdateFunc: func(old, cur any) {
			o, ok1 := old.(T)
			c, ok2 := cur.(T)
			if !ok1 || !ok2 {
				return
			}
			ko, kc := key(o), key(c)
			if ko.uid != kc.uid || ko.replicas != kc.replicas || !labels.Equals(ko.labels, kc.labels) {
				changed(c.GetNamespace(), kc.labels)
				if !labels.Equals(ko.labels, kc.labels) {
					changed(o.GetNamespace(), ko.labels)
				}
			}
		},
		DeleteFunc: notify,
	}
}

// replicasOf is spec.replicas with the API default of 1.
func replicasOf(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}
