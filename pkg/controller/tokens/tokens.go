package tokens

import (
	"context"
	"fmt"
	"log/slog"
	"math"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/pkg/controller"
)

// Name is the controller's name.
const Name = "serviceaccount-token-controller"

// tokenSeconds is the lifetime asked for: the longest the API grants.
const tokenSeconds int64 = math.MaxUint32

// Controller fills service account token Secrets.
type Controller struct {
	client   kubernetes.Interface
	rootCA   []byte
	accounts corelisters.ServiceAccountLister
	secrets  corelisters.SecretLister
	factory  informers.SharedInformerFactory
	synced   []cache.InformerSynced
	queue    workqueue.TypedRateLimitingInterface[string]
	log      *slog.Logger
}

// New is the controller's constructor.
func New(cc *controller.Context) (controller.Controller, error) {
	saInf := cc.Informers.Core().V1().ServiceAccounts()
	// Only token Secrets are watched, not every Secret of the cluster.
	factory := informers.NewSharedInformerFactoryWithOptions(cc.Client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("type", string(corev1.SecretTypeServiceAccountToken)).String()
		}))
	secretInf := factory.Core().V1().Secrets()
	c := &Controller{
		client:   cc.Client,
		rootCA:   cc.Options.RootCA,
		accounts: saInf.Lister(),
		secrets:  secretInf.Lister(),
		factory:  factory,
		synced:   []cache.InformerSynced{saInf.Informer().HasSynced, secretInf.Informer().HasSynced},
		queue:    controller.NewRateLimitingQueue[string](Name),
		log:      cc.Log.With("controller", Name),
	}
	if _, err := secretInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueSecret,
		UpdateFunc: func(_, obj any) { c.enqueueSecret(obj) },
	}); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	if _, err := saInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueAccountSecrets,
		DeleteFunc: c.enqueueAccountSecrets,
	}); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	return c, nil
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (c *Controller) Run(ctx context.Context, workers int) error {
	c.factory.Start(ctx.Done())
	defer c.factory.Shutdown()
	return controller.Run(ctx, c.log, c.queue, workers, c.sync, c.synced...)
}

func (c *Controller) enqueueSecret(obj any) {
	if s, ok := obj.(*corev1.Secret); ok && s.Type == corev1.SecretTypeServiceAccountToken {
		c.queue.Add(s.Namespace + "/" + s.Name)
	}
}

// enqueueAccountSecrets queues the token Secrets of an account that
// appeared (a Secret may have been written first) or went away.
func (c *Controller) enqueueAccountSecrets(obj any) {
	sa, ok := controller.ObjectOf(obj).(*corev1.ServiceAccount)
	if !ok {
		return
	}
	secrets, err := c.secrets.Secrets(sa.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, s := range secrets {
		if s.Annotations[corev1.ServiceAccountNameKey] == sa.Name {
			c.queue.Add(s.Namespace + "/" + s.Name)
		}
	}
}

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	secret, err := c.secrets.Secrets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if secret.DeletionTimestamp != nil {
		return nil
	}
	sa, err := c.account(ctx, ns, secret.Annotations[corev1.ServiceAccountNameKey])
	if err != nil {
		return err
	}
	uid := secret.Annotations[corev1.ServiceAccountUIDKey]
	if sa == nil || (uid != "" && uid != string(sa.UID)) {
		return c.deleteSecret(ctx, secret)
	}
	if c.filled(secret, sa) {
		return nil
	}
	return c.fill(ctx, secret, sa)
}

// account reads the named account, asking the API server when the cache
// does not have it, so a Secret is never deleted because of a stale cache.
// It returns nil when the account does not exist.
func (c *Controller) account(ctx context.Context, ns, name string) (*corev1.ServiceAccount, error) {
	sa, err := c.accounts.ServiceAccounts(ns).Get(name)
	if err == nil {
		return sa, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, err
	}
	sa, err = c.client.CoreV1().ServiceAccounts(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return sa, err
}

func (c *Controller) filled(s *corev1.Secret, sa *corev1.ServiceAccount) bool {
	return len(s.Data[corev1.ServiceAccountTokenKey]) > 0 &&
		string(s.Data[corev1.ServiceAccountNamespaceKey]) == s.Namespace &&
		(len(c.rootCA) == 0 || string(s.Data[corev1.ServiceAccountRootCAKey]) == string(c.rootCA)) &&
		s.Annotations[corev1.ServiceAccountUIDKey] == string(sa.UID)
}

func (c *Controller) fill(ctx context.Context, secret *corev1.Secret, sa *corev1.ServiceAccount) error {
	s := secret.DeepCopy()
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	if len(s.Data[corev1.ServiceAccountTokenKey]) == 0 {
		tr, err := c.client.CoreV1().ServiceAccounts(sa.Namespace).CreateToken(ctx, sa.Name, &authenticationv1.TokenRequest{
			Spec: authenticationv1.TokenRequestSpec{
				ExpirationSeconds: ptr.To(tokenSeconds),
				BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Secret", APIVersion: "v1", Name: s.Name, UID: s.UID},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("token for %s/%s: %w", s.Namespace, s.Name, err)
		}
		s.Data[corev1.ServiceAccountTokenKey] = []byte(tr.Status.Token)
	}
	s.Data[corev1.ServiceAccountNamespaceKey] = []byte(s.Namespace)
	if len(c.rootCA) > 0 {
		s.Data[corev1.ServiceAccountRootCAKey] = c.rootCA
	}
	s.Annotations[corev1.ServiceAccountUIDKey] = string(sa.UID)
	_, err := c.client.CoreV1().Secrets(s.Namespace).Update(ctx, s, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

func (c *Controller) deleteSecret(ctx context.Context, s *corev1.Secret) error {
	uid := s.UID
	err := c.client.CoreV1().Secrets(s.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if err == nil || apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return fmt.Errorf("delete %s/%s of a missing service account: %w", s.Namespace, s.Name, err)
}
