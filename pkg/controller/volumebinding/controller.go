package volumebinding

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"github.com/tugcluster/tug/pkg/controller"
)

// Name is the controller's name.
const Name = "persistentvolume-binder-controller"

// EventSource is the component the binder's Events come from, as in
// Kubernetes.
const EventSource = "persistentvolume-controller"

// resyncPeriod is how often every claim and volume is looked at again, so
// that a missed notification or a failed Event never leaves one stuck.
const resyncPeriod = 15 * time.Second

// key names a claim (namespace set) or a volume (namespace empty).
type key struct {
	claim     bool
	namespace string
	name      string
}

// Controller binds claims to volumes.
type Controller struct {
	client  kubernetes.Interface
	claims  corelisters.PersistentVolumeClaimLister
	volumes corelisters.PersistentVolumeLister
	classes storagelisters.StorageClassLister
	nodes   corelisters.NodeLister
	synced  []cache.InformerSynced
	queue   workqueue.TypedRateLimitingInterface[key]
	events  record.EventRecorder
	log     *slog.Logger
}

// New is the controller's constructor.
func New(cc *controller.Context) (controller.Controller, error) {
	pvcInf := cc.Informers.Core().V1().PersistentVolumeClaims()
	pvInf := cc.Informers.Core().V1().PersistentVolumes()
	scInf := cc.Informers.Storage().V1().StorageClasses()
	nodeInf := cc.Informers.Core().V1().Nodes()
	c := &Controller{
		client:  cc.Client,
		claims:  pvcInf.Lister(),
		volumes: pvInf.Lister(),
		classes: scInf.Lister(),
		nodes:   nodeInf.Lister(),
		synced: []cache.InformerSynced{pvcInf.Informer().HasSynced, pvInf.Informer().HasSynced,
			scInf.Informer().HasSynced, nodeInf.Informer().HasSynced},
		queue:  controller.NewRateLimitingQueue[key](Name),
		events: cc.Events(EventSource),
		log:    cc.Log.With("controller", Name),
	}
	handlers := []struct {
		inf cache.SharedIndexInformer
		h   cache.ResourceEventHandler
	}{
		{pvcInf.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    c.claimChanged,
			UpdateFunc: func(_, obj any) { c.claimChanged(obj) },
			DeleteFunc: c.claimDeleted,
		}},
		{pvInf.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    c.volumeChanged,
			UpdateFunc: func(_, obj any) { c.volumeChanged(obj) },
			DeleteFunc: c.volumeChanged,
		}},
		{scInf.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(any) { c.enqueuePendingClaims() },
			UpdateFunc: func(any, any) { c.enqueuePendingClaims() },
		}},
	}
	for _, h := range handlers {
		if _, err := h.inf.AddEventHandler(h.h); err != nil {
			return nil, fmt.Errorf("volume binder: %w", err)
		}
	}
	return c, nil
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (c *Controller) Run(ctx context.Context, workers int) error {
	if !controller.WaitForSync(ctx, c.synced...) {
		return nil
	}
	go c.resync(ctx)
	controller.RunWorkers(ctx, c.log, c.queue, workers, c.sync)
	return nil
}

func (c *Controller) resync(ctx context.Context) {
	t := time.NewTicker(resyncPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if pvs, err := c.volumes.List(labels.Everything()); err == nil {
			for _, pv := range pvs {
				c.queue.Add(key{name: pv.Name})
			}
		}
		if pvcs, err := c.claims.List(labels.Everything()); err == nil {
			for _, pvc := range pvcs {
				c.queue.Add(key{claim: true, namespace: pvc.Namespace, name: pvc.Name})
			}
		}
	}
}

func (c *Controller) sync(ctx context.Context, k key) error {
	if k.claim {
		return c.syncClaim(ctx, k.namespace, k.name)
	}
	return c.syncVolume(ctx, k.name)
}

func (c *Controller) claimChanged(obj any) {
	if pvc, ok := obj.(*corev1.PersistentVolumeClaim); ok {
		c.queue.Add(key{claim: true, namespace: pvc.Namespace, name: pvc.Name})
	}
}

// claimDeleted wakes the volumes that referred to the claim so they turn
// Released.
func (c *Controller) claimDeleted(obj any) {
	pvc, ok := controller.ObjectOf(obj).(*corev1.PersistentVolumeClaim)
	if !ok {
		return
	}
	if pvc.Spec.VolumeName != "" {
		c.queue.Add(key{name: pvc.Spec.VolumeName})
	}
	pvs, err := c.volumes.List(labels.Everything())
	if err != nil {
		return
	}
	for _, pv := range pvs {
		if ref := pv.Spec.ClaimRef; ref != nil && ref.Namespace == pvc.Namespace && ref.Name == pvc.Name {
			c.queue.Add(key{name: pv.Name})
		}
	}
}

// volumeChanged syncs the volume, the claim it names, and, when it is
// free, the claims that wait for a volume.
func (c *Controller) volumeChanged(obj any) {
	pv, ok := controller.ObjectOf(obj).(*corev1.PersistentVolume)
	if !ok {
		return
	}
	c.queue.Add(key{name: pv.Name})
	if ref := pv.Spec.ClaimRef; ref != nil {
		c.queue.Add(key{claim: true, namespace: ref.Namespace, name: ref.Name})
		return
	}
	c.enqueuePendingClaims()
}

func (c *Controller) enqueuePendingClaims() {
	pvcs, err := c.claims.List(labels.Everything())
	if err != nil {
		return
	}
	for _, pvc := range pvcs {
		if pvc.Spec.VolumeName == "" {
			c.queue.Add(key{claim: true, namespace: pvc.Namespace, name: pvc.Name})
		}
	}
}
