package endpoints

import (
	"context"
	"fmt"
	"log/slog"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/tugcluster/tug/pkg/controller"
	"github.com/tugcluster/tug/pkg/controller/endpointslice"
)

// Name is the controller's name.
const Name = "endpoints-controller"

// SkipMirrorLabel tells EndpointSlice mirroring that the controller's own
// slices already cover this object.
const SkipMirrorLabel = "endpointslice.kubernetes.io/skip-mirror"

// Controller keeps the Endpoints of selector Services.
type Controller struct {
	client    kubernetes.Interface
	services  corelisters.ServiceLister
	pods      corelisters.PodLister
	endpoints corelisters.EndpointsLister
	synced    []cache.InformerSynced
	queue     workqueue.TypedRateLimitingInterface[string]
	log       *slog.Logger
}

// New is a controller.Constructor.
func New(c *controller.Context) (controller.Controller, error) {
	svcInf := c.Informers.Core().V1().Services()
	podInf := c.Informers.Core().V1().Pods()
	epInf := c.Informers.Core().V1().Endpoints()
	ec := &Controller{
		client:    c.Client,
		services:  svcInf.Lister(),
		pods:      podInf.Lister(),
		endpoints: epInf.Lister(),
		synced:    []cache.InformerSynced{svcInf.Informer().HasSynced, podInf.Informer().HasSynced, epInf.Informer().HasSynced},
		queue:     controller.NewRateLimitingQueue[string]("endpoints"),
		log:       c.Log.With("controller", Name),
	}
	if _, err := svcInf.Informer().AddEventHandler(endpointslice.ServiceHandler(ec.queue)); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	if _, err := podInf.Informer().AddEventHandler(endpointslice.PodHandler(ec.services, ec.queue)); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	if _, err := epInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		// Someone else changed or removed our object: put it back.
		UpdateFunc: func(_, cur any) { ec.endpointsChanged(cur) },
		DeleteFunc: ec.endpointsChanged,
	}); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	return ec, nil
}

// Name implements controller.Controller.
func (ec *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (ec *Controller) Run(ctx context.Context, workers int) error {
	return controller.Run(ctx, ec.log, ec.queue, workers, ec.sync, ec.synced...)
}

func (ec *Controller) endpointsChanged(obj any) {
	ep, ok := controller.ObjectOf(obj).(*corev1.Endpoints)
	if !ok {
		return
	}
	if svc, err := ec.services.Services(ep.Namespace).Get(ep.Name); err == nil && endpointslice.Selects(svc) {
		ec.queue.Add(ep.Namespace + "/" + ep.Name)
	}
}

func (ec *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	api := ec.client.CoreV1().Endpoints(ns)
	svc, err := ec.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		err := api.Delete(ctx, name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete endpoints %s: %w", key, err)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if !endpointslice.Selects(svc) {
		return nil
	}
	pods, err := ec.pods.Pods(ns).List(labels.SelectorFromSet(svc.Spec.Selector))
	if err != nil {
		return err
	}
	want := subsets(svc, pods)
	lbls := map[string]string{}
	for k, v := range svc.Labels {
		lbls[k] = v
	}
	lbls[SkipMirrorLabel] = "true"
	if endpointslice.IsHeadless(svc) {
		lbls[endpointslice.HeadlessLabel] = ""
	} else {
		delete(lbls, endpointslice.HeadlessLabel)
	}
	cur, err := ec.endpoints.Endpoints(ns).Get(name)
	if apierrors.IsNotFound(err) {
		ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: lbls}, Subsets: want}
		if _, err := api.Create(ctx, ep, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create endpoints %s: %w", key, err)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if apiequality.Semantic.DeepEqual(cur.Subsets, want) && apiequality.Semantic.DeepEqual(cur.Labels, lbls) {
		return nil
	}
	next := cur.DeepCopy()
	next.Subsets, next.Labels = want, lbls
	if _, err := api.Update(ctx, next, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update endpoints %s: %w", key, err)
	}
	return nil
}
