package localpath

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"github.com/tugcluster/tug/pkg/controller"
	"github.com/tugcluster/tug/pkg/controller/volumebinding"
)

// Name is the controller's name.
const Name = "local-path-provisioner"

// Event reasons on claims, as external provisioners write them.
const (
	reasonProvisioning          = "Provisioning"
	reasonProvisioningSucceeded = "ProvisioningSucceeded"
	reasonProvisioningFailed    = "ProvisioningFailed"
)

// Controller provisions local-path volumes.
type Controller struct {
	client  kubernetes.Interface
	claims  corelisters.PersistentVolumeClaimLister
	volumes corelisters.PersistentVolumeLister
	classes storagelisters.StorageClassLister
	synced  []cache.InformerSynced
	queue   workqueue.TypedRateLimitingInterface[cache.ObjectName]
	events  record.EventRecorder
	log     *slog.Logger
}

// New is the controller's constructor.
func New(cc *controller.Context) (controller.Controller, error) {
	pvcInf := cc.Informers.Core().V1().PersistentVolumeClaims()
	pvInf := cc.Informers.Core().V1().PersistentVolumes()
	scInf := cc.Informers.Storage().V1().StorageClasses()
	c := &Controller{
		client:  cc.Client,
		claims:  pvcInf.Lister(),
		volumes: pvInf.Lister(),
		classes: scInf.Lister(),
		synced:  []cache.InformerSynced{pvcInf.Informer().HasSynced, pvInf.Informer().HasSynced, scInf.Informer().HasSynced},
		queue:   controller.NewRateLimitingQueue[cache.ObjectName](Name),
		events:  cc.Events(Provisioner),
		log:     cc.Log.With("controller", Name),
	}
	if _, err := pvcInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj any) { c.enqueue(obj) },
	}); err != nil {
		return nil, fmt.Errorf("local-path provisioner: %w", err)
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
	// The class is ensured once per leadership term, retrying until the
	// API server accepts it.
	go func() {
		_ = wait.ExponentialBackoffWithContext(ctx, wait.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Steps: 12, Cap: 30 * time.Second},
			func(ctx context.Context) (bool, error) {
				if err := c.ensureClass(ctx); err != nil {
					c.log.Warn("ensure storage class", "err", err)
					return false, nil
				}
				return true, nil
			})
	}()
	controller.RunWorkers(ctx, c.log, c.queue, workers, c.sync)
	return nil
}

func (c *Controller) enqueue(obj any) {
	pvc, ok := obj.(*corev1.PersistentVolumeClaim)
	if !ok || pvc.Spec.VolumeName != "" || volumebinding.ProvisionerOf(pvc) != Provisioner {
		return
	}
	c.queue.Add(cache.MetaObjectToName(pvc))
}

// sync provisions the volume of one claim when it is handed to
// local-path and its node is known.
func (c *Controller) sync(ctx context.Context, key cache.ObjectName) error {
	pvc, err := c.claims.PersistentVolumeClaims(key.Namespace).Get(key.Name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if pvc.DeletionTimestamp != nil || pvc.Spec.VolumeName != "" || volumebinding.ProvisionerOf(pvc) != Provisioner {
		return nil
	}
	if _, err := c.volumes.Get(VolumeName(pvc)); err == nil {
		return nil
	}
	_, sc := volumebinding.ResolveClass(pvc, c.classes)
	if sc == nil || sc.Provisioner != Provisioner {
		return nil
	}
	node := pvc.Annotations[volumebinding.AnnSelectedNode]
	if node == "" {
		if !volumebinding.WaitsForConsumer(sc) {
			c.events.Eventf(pvc, corev1.EventTypeWarning, reasonProvisioningFailed,
				"configuration error, no node was specified: storage class %q must use volumeBindingMode WaitForFirstConsumer", sc.Name)
		}
		return nil
	}
	pv, err := newVolume(pvc, sc, node)
	if errors.Is(err, ErrBadClaim) {
		c.events.Event(pvc, corev1.EventTypeWarning, reasonProvisioningFailed, err.Error())
		return nil
	}
	if err != nil {
		return err
	}
	c.events.Eventf(pvc, corev1.EventTypeNormal, reasonProvisioning,
		"External provisioner is provisioning volume for claim \"%s/%s\"", pvc.Namespace, pvc.Name)
	_, err = c.client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	if err != nil {
		c.events.Eventf(pvc, corev1.EventTypeWarning, reasonProvisioningFailed, "failed to create volume %s: %v", pv.Name, err)
		return fmt.Errorf("create volume %s for claim %s/%s: %w", pv.Name, pvc.Namespace, pvc.Name, err)
	}
	c.log.Info("provisioned volume", "volume", pv.Name, "claim", pvc.Namespace+"/"+pvc.Name, "node", node, "path", pv.Spec.HostPath.Path)
	c.events.Eventf(pvc, corev1.EventTypeNormal, reasonProvisioningSucceeded, "Successfully provisioned volume %s", pv.Name)
	return nil
}
