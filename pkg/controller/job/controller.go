package job

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/tugcluster/tug/pkg/controller"
)

// Name is the controller's name and the reporting component of its Events.
const Name = "job-controller"

// orphanPrefix marks queue keys of pods whose Job is gone but which still
// carry the tracking finalizer. Namespaces cannot contain ':'.
const orphanPrefix = "pod:"

// kind is the ownerReference type of Jobs.
var kind = metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"}

// Controller runs Jobs' pods to completion.
type Controller struct {
	client       kubernetes.Interface
	jobLister    batchlisters.JobLister
	podLister    corelisters.PodLister
	podIndexer   cache.Indexer
	synced       []cache.InformerSynced
	queue        controller.Queue
	expectations *controller.Expectations[types.UID]
	releases     *releases
	events       record.EventRecorder
	now          func() time.Time
	log          *slog.Logger
}

// New builds the controller and registers its informer handlers; it is a
// controller.Constructor.
func New(c *controller.Context) (controller.Controller, error) {
	now := c.Clock()
	jobInf := c.Informers.Batch().V1().Jobs()
	podInf := c.Informers.Core().V1().Pods()
	if err := controller.AddControllerUIDIndex(podInf.Informer()); err != nil {
		return nil, err
	}
	jc := &Controller{
		client:       c.Client,
		jobLister:    jobInf.Lister(),
		podLister:    podInf.Lister(),
		podIndexer:   podInf.Informer().GetIndexer(),
		synced:       []cache.InformerSynced{jobInf.Informer().HasSynced, podInf.Informer().HasSynced},
		queue:        controller.NewQueue("job"),
		expectations: controller.NewExpectations[types.UID](now),
		releases:     newReleases(now),
		events:       c.Events(Name),
		now:          now,
		log:          c.Log.With("controller", Name),
	}
	jobHandlers := jc.queue.Handlers()
	jobHandlers.DeleteFunc = func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			jc.expectations.Forget(key)
			jc.queue.Add(key)
		}
	}
	err := controller.AddHandlers(
		controller.Handler{Informer: jobInf.Informer(), Funcs: jobHandlers},
		controller.Handler{Informer: podInf.Informer(), Funcs: cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { jc.podChanged(obj.(*corev1.Pod), true) },
			UpdateFunc: func(_, cur any) { jc.podChanged(cur.(*corev1.Pod), false) },
			DeleteFunc: jc.podDeleted,
		}},
	)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	return jc, nil
}

// Name implements controller.Controller.
func (jc *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (jc *Controller) Run(ctx context.Context, workers int) error {
	return controller.Run(ctx, jc.log, jc.queue, workers, jc.syncKey, jc.synced...)
}

func (jc *Controller) syncKey(ctx context.Context, key string) error {
	if podKey, ok := strings.CutPrefix(key, orphanPrefix); ok {
		return jc.releaseOrphan(ctx, podKey)
	}
	return jc.sync(ctx, key)
}

// owner returns the Job named by a pod's controllerRef, if it still is
// the same object.
func (jc *Controller) owner(pod *corev1.Pod) *batchv1.Job {
	return controller.ResolveControllerRef(metav1.GetControllerOfNoCopy(pod), kind.Kind, jc.jobLister.Jobs(pod.Namespace).Get)
}

func (jc *Controller) podChanged(pod *corev1.Pod, added bool) {
	if !hasFinalizer(pod) {
		jc.releases.seen(pod.UID)
	}
	job := jc.owner(pod)
	if job == nil {
		if ref := metav1.GetControllerOfNoCopy(pod); hasFinalizer(pod) && ref != nil && ref.Kind == kind.Kind {
			key, _ := cache.MetaNamespaceKeyFunc(pod)
			jc.queue.Add(orphanPrefix + key)
		}
		return
	}
	key, _ := cache.MetaNamespaceKeyFunc(job)
	if added {
		jc.expectations.CreationObserved(key)
	}
	if pod.DeletionTimestamp != nil {
		jc.expectations.DeletionObserved(key, pod.UID)
	}
	jc.queue.Add(key)
}

func (jc *Controller) podDeleted(obj any) {
	pod, ok := controller.ObjectOf(obj).(*corev1.Pod)
	if !ok {
		return
	}
	jc.releases.seen(pod.UID)
	if job := jc.owner(pod); job != nil {
		key, _ := cache.MetaNamespaceKeyFunc(job)
		jc.expectations.DeletionObserved(key, pod.UID)
		jc.queue.Add(key)
	}
}
