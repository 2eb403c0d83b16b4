package rootcacert

import (
	"context"
	"fmt"
	"log/slog"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/tugcluster/tug/pkg/controller"
)

// Name is the controller's name.
const Name = "root-ca-cert-publisher"

// ConfigMapName is the ConfigMap every namespace gets.
const ConfigMapName = "kube-root-ca.crt"

// descriptionAnnotation says what the ConfigMap is for, in Kubernetes' words.
const descriptionAnnotation = "kubernetes.io/description"

const description = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."

// Controller publishes the cluster CA into every namespace.
type Controller struct {
	client     kubernetes.Interface
	rootCA     string
	namespaces corelisters.NamespaceLister
	configMaps corelisters.ConfigMapLister
	cmFactory  informers.SharedInformerFactory
	synced     []cache.InformerSynced
	queue      workqueue.TypedRateLimitingInterface[string]
	log        *slog.Logger
}

// New is the controller's constructor. Without Options.RootCA it publishes
// nothing and only waits for its context to end.
func New(cc *controller.Context) (controller.Controller, error) {
	c := &Controller{
		client: cc.Client,
		rootCA: string(cc.Options.RootCA),
		queue:  controller.NewRateLimitingQueue[string](Name),
		log:    cc.Log.With("controller", Name),
	}
	if c.rootCA == "" {
		return c, nil
	}
	nsInf := cc.Informers.Core().V1().Namespaces()
	// Only the published ConfigMaps are watched, not every ConfigMap of
	// the cluster.
	c.cmFactory = informers.NewSharedInformerFactoryWithOptions(cc.Client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", ConfigMapName).String()
		}))
	cmInf := c.cmFactory.Core().V1().ConfigMaps()
	c.namespaces, c.configMaps = nsInf.Lister(), cmInf.Lister()
	c.synced = []cache.InformerSynced{nsInf.Informer().HasSynced, cmInf.Informer().HasSynced}
	if _, err := nsInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueNamespace,
		UpdateFunc: func(_, obj any) { c.enqueueNamespace(obj) },
	}); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	if _, err := cmInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj any) { c.enqueueConfigMap(obj) },
		DeleteFunc: c.enqueueConfigMap,
	}); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	return c, nil
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (c *Controller) Run(ctx context.Context, workers int) error {
	if c.rootCA == "" {
		<-ctx.Done()
		return nil
	}
	c.cmFactory.Start(ctx.Done())
	defer c.cmFactory.Shutdown()
	return controller.Run(ctx, c.log, c.queue, workers, c.sync, c.synced...)
}

func (c *Controller) enqueueNamespace(obj any) {
	if ns, ok := obj.(*corev1.Namespace); ok && controller.NamespaceActive(ns) {
		c.queue.Add(ns.Name)
	}
}

func (c *Controller) enqueueConfigMap(obj any) {
	if cm, ok := controller.ObjectOf(obj).(*corev1.ConfigMap); ok && cm.Name == ConfigMapName {
		c.queue.Add(cm.Namespace)
	}
}

// sync creates or repairs the ConfigMap of one namespace.
func (c *Controller) sync(ctx context.Context, namespace string) error {
	if active, err := controller.ActiveNamespace(c.namespaces, namespace); !active || err != nil {
		return err
	}
	want := map[string]string{"ca.crt": c.rootCA}
	cm, err := c.configMaps.ConfigMaps(namespace).Get(ConfigMapName)
	switch {
	case apierrors.IsNotFound(err):
		cm = &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName, Namespace: namespace,
				Annotations: map[string]string{descriptionAnnotation: description}},
			Data: want,
		}
		_, err = c.client.CoreV1().ConfigMaps(namespace).Create(ctx, cm, metav1.CreateOptions{})
	case err != nil:
		return err
	case maps.Equal(cm.Data, want) && len(cm.BinaryData) == 0 && cm.Annotations[descriptionAnnotation] == description:
		return nil
	default:
		cm = cm.DeepCopy()
		cm.Data, cm.BinaryData = want, nil
		if cm.Annotations == nil {
			cm.Annotations = map[string]string{}
		}
		cm.Annotations[descriptionAnnotation] = description
		_, err = c.client.CoreV1().ConfigMaps(namespace).Update(ctx, cm, metav1.UpdateOptions{})
	}
	switch {
	case err == nil, apierrors.IsAlreadyExists(err), controller.NamespaceGone(err):
		return nil
	default:
		return fmt.Errorf("publish %s/%s: %w", namespace, ConfigMapName, err)
	}
}
