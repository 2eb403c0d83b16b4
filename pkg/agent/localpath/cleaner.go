package localpath

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/tugcluster/tug/pkg/controller"
	ctrllocalpath "github.com/tugcluster/tug/pkg/controller/localpath"
	"github.com/tugcluster/tug/pkg/controller/volumebinding"
)

// Options configure a Cleaner.
type Options struct {
	// BaseDirs are the directories volumes may live in (default
	// /var/lib/tug/storage). A class with another "path" parameter needs
	// its path listed here, or its volumes are never removed.
	BaseDirs []string
	// Logger receives the cleaner's logs (default slog.Default()).
	Logger *slog.Logger
}

// Cleaner removes the released local-path volumes of one node.
type Cleaner struct {
	client kubernetes.Interface
	node   string
	bases  []string
	log    *slog.Logger
}

// New returns a cleaner for the node; nothing runs until Run.
func New(client kubernetes.Interface, nodeName string, opts Options) (*Cleaner, error) {
	if client == nil || nodeName == "" {
		return nil, errors.New("local-path cleaner: client and node name are required")
	}
	if len(opts.BaseDirs) == 0 {
		opts.BaseDirs = []string{ctrllocalpath.DefaultBasePath}
	}
	bases, err := cleanBases(opts.BaseDirs)
	if err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Cleaner{client: client, node: nodeName, bases: bases,
		log: opts.Logger.With("component", "local-path-cleaner", "node", nodeName)}, nil
}

// Run watches PersistentVolumes and cleans up this node's released ones
// until ctx ends; it returns nil then.
func (c *Cleaner) Run(ctx context.Context) error {
	factory := informers.NewSharedInformerFactory(c.client, 0)
	defer factory.Shutdown()
	inf := factory.Core().V1().PersistentVolumes()
	lister := inf.Lister()
	queue := workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "local-path-cleaner"})
	enqueue := func(obj any) {
		if pv, ok := obj.(*corev1.PersistentVolume); ok && c.mine(pv) {
			queue.Add(pv.Name)
		}
	}
	if _, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
	}); err != nil {
		return fmt.Errorf("local-path cleaner: %w", err)
	}
	factory.Start(ctx.Done())
	if !controller.WaitForSync(ctx, inf.Informer().HasSynced) {
		return nil
	}
	controller.RunWorkers(ctx, c.log, queue, 1, func(ctx context.Context, name string) error {
		pv, err := lister.Get(name)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return c.clean(ctx, pv)
	})
	return nil
}

// mine reports whether pv is a released local-path volume of this node
// whose policy asks for deletion.
func (c *Cleaner) mine(pv *corev1.PersistentVolume) bool {
	return pv.Annotations[volumebinding.AnnDynamicallyProvisioned] == ctrllocalpath.Provisioner &&
		ctrllocalpath.VolumeNode(pv) == c.node && pv.Status.Phase == corev1.VolumeReleased &&
		pv.Spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimDelete &&
		pv.Spec.HostPath != nil && pv.DeletionTimestamp == nil
}

// clean removes the volume's directory and then the volume. The volume is
// read again from the API server first, so a stale cache never removes
// data of a volume that was meanwhile reused.
func (c *Cleaner) clean(ctx context.Context, cached *corev1.PersistentVolume) error {
	if !c.mine(cached) {
		return nil
	}
	pv, err := c.client.CoreV1().PersistentVolumes().Get(ctx, cached.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get volume %s: %w", cached.Name, err)
	}
	if !c.mine(pv) {
		return nil
	}
	dir, err := volumeDir(pv.Spec.HostPath.Path, pv.Name, c.bases)
	if err != nil {
		c.log.Warn("refusing to remove volume directory", "volume", pv.Name, "err", err)
		return c.fail(ctx, pv, fmt.Sprintf("local-path cleanup refused: %v", err))
	}
	if err := removeVolumeDir(dir); err != nil {
		return err
	}
	err = c.client.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &pv.UID, ResourceVersion: &pv.ResourceVersion},
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete volume %s: %w", pv.Name, err)
	}
	c.log.Info("removed released volume", "volume", pv.Name, "path", dir)
	return nil
}

// fail marks the volume Failed with a message that says why it stays.
func (c *Cleaner) fail(ctx context.Context, pv *corev1.PersistentVolume, msg string) error {
	cur := pv.DeepCopy()
	cur.Status.Phase = corev1.VolumeFailed
	cur.Status.Message = msg
	if _, err := c.client.CoreV1().PersistentVolumes().UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil &&
		!apierrors.IsNotFound(err) {
		return fmt.Errorf("mark volume %s failed: %w", pv.Name, err)
	}
	return nil
}
