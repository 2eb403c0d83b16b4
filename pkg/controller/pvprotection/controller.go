package pvprotection

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
const Name = "pv-protection-controller"

// Finalizer keeps a volume while it is bound, as Kubernetes names it.
const Finalizer = "kubernetes.io/pv-protection"

// Controller removes Finalizer from deleted volumes that are not bound.
type Controller struct {
	client  kubernetes.Interface
	volumes corelisters.PersistentVolumeLister
	synced  []cache.InformerSynced
	queue   workqueue.TypedRateLimitingInterface[string]
	log     *slog.Logger
}

// New is the controller's constructor.
func New(cc *controller.Context) (controller.Controller, error) {
	pvInf := cc.Informers.Core().V1().PersistentVolumes()
	c := &Controller{
		client:  cc.Client,
		volumes: pvInf.Lister(),
		synced:  []cache.InformerSynced{pvInf.Informer().HasSynced},
		queue:   controller.NewRateLimitingQueue[string](Name),
		log:     cc.Log.With("controller", Name),
	}
	// The binder marks a deleted volume Released once its claim is gone;
	// that update brings the volume back here.
	_, err := pvInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.volumeChanged,
		UpdateFunc: func(_, cur any) { c.volumeChanged(cur) },
	})
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

func (c *Controller) volumeChanged(obj any) {
	if pv, ok := obj.(*corev1.PersistentVolume); ok && (deletionPending(pv) || unprotected(pv)) {
		c.queue.Add(pv.Name)
	}
}

// unprotected reports whether a live volume lacks the finalizer: one
// created before volumes got it at admission.
func unprotected(pv *corev1.PersistentVolume) bool {
	return pv.DeletionTimestamp == nil && !controller.HasFinalizer(pv, Finalizer)
}

// deletionPending reports whether the volume was deleted and still waits
// for this controller.
func deletionPending(pv *corev1.PersistentVolume) bool {
	return pv.DeletionTimestamp != nil && controller.HasFinalizer(pv, Finalizer)
}

// sync removes the finalizer of one deleted volume once it is not bound.
// While it is, it waits for the phase to change rather than retrying.
func (c *Controller) sync(ctx context.Context, name string) error {
	pv, err := c.volumes.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if unprotected(pv) {
		cur := pv.DeepCopy()
		cur.Finalizers = append(cur.Finalizers, Finalizer)
		_, err := c.client.CoreV1().PersistentVolumes().Update(ctx, cur, metav1.UpdateOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("add %s to volume %s: %w", Finalizer, name, err)
		}
		return nil
	}
	if !deletionPending(pv) {
		return nil
	}
	if pv.Status.Phase == corev1.VolumeBound {
		return nil
	}
	cur := pv.DeepCopy()
	cur.Finalizers = slices.DeleteFunc(cur.Finalizers, func(f string) bool { return f == Finalizer })
	_, err = c.client.CoreV1().PersistentVolumes().Update(ctx, cur, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove %s from volume %s: %w", Finalizer, name, err)
	}
	c.log.Info("volume not bound, finalizer removed", "volume", name)
	return nil
}
