package clusterroleaggregation

import (
	"context"
	"fmt"
	"log/slog"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	rbaclisters "k8s.io/client-go/listers/rbac/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/tugcluster/tug/pkg/apiserver/rbac"
	"github.com/tugcluster/tug/pkg/controller"
)

// Name is the controller's name.
const Name = "clusterrole-aggregation-controller"

// Controller keeps aggregated ClusterRoles' rules current.
type Controller struct {
	client kubernetes.Interface
	roles  rbaclisters.ClusterRoleLister
	synced []cache.InformerSynced
	queue  workqueue.TypedRateLimitingInterface[string]
	log    *slog.Logger
}

// New is the controller's constructor.
func New(cc *controller.Context) (controller.Controller, error) {
	inf := cc.Informers.Rbac().V1().ClusterRoles()
	c := &Controller{
		client: cc.Client,
		roles:  inf.Lister(),
		synced: []cache.InformerSynced{inf.Informer().HasSynced},
		queue:  controller.NewRateLimitingQueue[string](Name),
		log:    cc.Log.With("controller", Name),
	}
	// Any ClusterRole may be matched by an aggregated one, so every change
	// re-checks them all; there are few.
	if _, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { c.enqueueAggregated() },
		UpdateFunc: func(any, any) { c.enqueueAggregated() },
		DeleteFunc: func(any) { c.enqueueAggregated() },
	}); err != nil {
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

func (c *Controller) enqueueAggregated() {
	roles, err := c.roles.List(labels.Everything())
	if err != nil {
		return
	}
	for _, r := range roles {
		if r.AggregationRule != nil {
			c.queue.Add(r.Name)
		}
	}
}

// sync writes the rules one aggregated role should hold, when they differ.
// The update is an event that re-checks roles aggregating this one.
func (c *Controller) sync(ctx context.Context, name string) error {
	role, err := c.roles.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if role.AggregationRule == nil {
		return nil
	}
	all, err := c.roles.List(labels.Everything())
	if err != nil {
		return err
	}
	rules := rbac.Aggregate(role, all)
	if apiequality.Semantic.DeepEqual(rules, role.Rules) || len(rules) == 0 && len(role.Rules) == 0 {
		return nil
	}
	cur := role.DeepCopy()
	cur.Rules = rules
	_, err = c.client.RbacV1().ClusterRoles().Update(ctx, cur, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("aggregate clusterrole %s: %w", name, err)
	}
	return nil
}
