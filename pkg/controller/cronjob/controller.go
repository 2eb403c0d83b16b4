package cronjob

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/tugcluster/tug/pkg/controller"
)

// Name is the controller's name and the reporting component of its Events.
const Name = "cronjob-controller"

// kind is the ownerReference type of CronJobs.
var kind = metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"}

// Controller starts Jobs on CronJobs' schedules.
type Controller struct {
	client    kubernetes.Interface
	cjLister  batchlisters.CronJobLister
	jobLister batchlisters.JobLister
	synced    []cache.InformerSynced
	queue     controller.Queue
	events    record.EventRecorder
	now       func() time.Time
	log       *slog.Logger
}

// New builds the controller and registers its informer handlers; it is a
// controller.Constructor.
func New(c *controller.Context) (controller.Controller, error) {
	cjInf := c.Informers.Batch().V1().CronJobs()
	jobInf := c.Informers.Batch().V1().Jobs()
	cc := &Controller{
		client:    c.Client,
		cjLister:  cjInf.Lister(),
		jobLister: jobInf.Lister(),
		synced:    []cache.InformerSynced{cjInf.Informer().HasSynced, jobInf.Informer().HasSynced},
		queue:     controller.NewQueue("cronjob"),
		events:    c.Events(Name),
		now:       c.Clock(),
		log:       c.Log.With("controller", Name),
	}
	err := controller.AddHandlers(
		controller.Handler{Informer: cjInf.Informer(), Funcs: cc.queue.Handlers()},
		controller.Handler{Informer: jobInf.Informer(), Funcs: cache.ResourceEventHandlerFuncs{
			AddFunc: cc.jobChanged, UpdateFunc: func(_, cur any) { cc.jobChanged(cur) }, DeleteFunc: cc.jobChanged}},
	)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	return cc, nil
}

// Name implements controller.Controller.
func (cc *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (cc *Controller) Run(ctx context.Context, workers int) error {
	return controller.Run(ctx, cc.log, cc.queue, workers, cc.sync, cc.synced...)
}

// jobChanged wakes the CronJob controlling a Job.
func (cc *Controller) jobChanged(obj any) {
	job, ok := controller.ObjectOf(obj).(*batchv1.Job)
	if !ok {
		return
	}
	if ref := metav1.GetControllerOfNoCopy(job); ref != nil && ref.Kind == kind.Kind {
		cc.queue.Add(job.Namespace + "/" + ref.Name)
	}
}
