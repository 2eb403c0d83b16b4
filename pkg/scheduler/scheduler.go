package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	schedulinglisters "k8s.io/client-go/listers/scheduling/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
)

// Scheduler binds pending pods of its scheduler name to nodes.
type Scheduler struct {
	client    kubernetes.Interface
	informers informers.SharedInformerFactory
	opts      options
	log       *slog.Logger

	snap     *Snapshot
	queue    *Queue
	algo     *algorithm
	binder   Binder
	recorder record.EventRecorder
	// broadcaster is ours to stop when no recorder was given.
	broadcaster record.EventBroadcaster

	priorityClasses schedulinglisters.PriorityClassLister
	// pdbs are the PodDisruptionBudgets preemption respects.
	pdbs   budgetLister
	synced []cache.InformerSynced

	bindSlots chan struct{}
	inFlight  sync.WaitGroup
	started   bool
}

// New builds a scheduler over the shared informers and registers its event
// handlers; Run starts the informers (if not yet started) and schedules.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, opts ...Option) (*Scheduler, error) {
	o := options{name: DefaultSchedulerName, bindConcurrency: 16,
		initialBackoff: defaultInitialBackoff, maxBackoff: defaultMaxBackoff}
	for _, opt := range opts {
		opt(&o)
	}
	if client == nil || factory == nil {
		return nil, errors.New("scheduler: a client and an informer factory are required")
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	s := &Scheduler{client: client, informers: factory, opts: o, log: o.logger.With("component", "scheduler"),
		bindSlots: make(chan struct{}, max(1, o.bindConcurrency))}
	s.priorityClasses = factory.Scheduling().V1().PriorityClasses().Lister()
	s.pdbs = factory.Policy().V1().PodDisruptionBudgets().Lister()
	s.snap = NewSnapshot(s.priorityOf)
	s.queue = NewQueue(s.priorityOf, o.initialBackoff, o.maxBackoff, nil)
	vols := informerVolumes{
		claims:  factory.Core().V1().PersistentVolumeClaims().Lister(),
		volumes: factory.Core().V1().PersistentVolumes().Lister(),
		classes: factory.Storage().V1().StorageClasses().Lister(),
	}
	s.algo = newAlgorithm(s.snap, vols, o.mostAllocated, o.percentage)
	s.binder = o.binder
	if s.binder == nil {
		s.binder = apiBinder{client: client}
	}
	s.recorder = o.recorder
	if s.recorder == nil {
		s.broadcaster = record.NewBroadcaster()
		s.recorder = s.broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: o.name})
	}
	if err := s.register(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Scheduler) register() error {
	f := s.informers
	handlers := []struct {
		inf cache.SharedIndexInformer
		h   cache.ResourceEventHandlerFuncs
	}{
		{f.Core().V1().Pods().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc: s.onPodAdd, UpdateFunc: s.onPodUpdate, DeleteFunc: s.onPodDelete}},
		{f.Core().V1().Nodes().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc: s.onNodeAdd, UpdateFunc: s.onNodeUpdate, DeleteFunc: s.onNodeDelete}},
		{f.Core().V1().Namespaces().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { s.onNamespace(obj, false) },
			UpdateFunc: func(_, obj any) { s.onNamespace(obj, false) },
			DeleteFunc: func(obj any) { s.onNamespace(obj, true) }}},
		{f.Core().V1().PersistentVolumeClaims().Informer(), s.wakeOnChange()},
		{f.Core().V1().PersistentVolumes().Informer(), s.wakeOnChange()},
		{f.Storage().V1().StorageClasses().Informer(), s.wakeOnChange()},
		// A class created just before its pods may arrive after them: retry
		// parked pods, whose priority (and preemption) depends on it.
		{f.Scheduling().V1().PriorityClasses().Informer(), s.wakeOnChange()},
	}
	for _, h := range handlers {
		if _, err := h.inf.AddEventHandler(h.h); err != nil {
			return fmt.Errorf("scheduler: register event handler: %w", err)
		}
		s.synced = append(s.synced, h.inf.HasSynced)
	}
	// Budgets only rank preemption plans and never make a pod fit, so a
	// change to one wakes no pod.
	s.synced = append(s.synced, f.Policy().V1().PodDisruptionBudgets().Informer().HasSynced)
	return nil
}

// Run schedules until ctx ends (then returns nil), under the Lease when
// leader election was configured. A Scheduler runs once.
func (s *Scheduler) Run(ctx context.Context) error {
	if s.started {
		return errors.New("scheduler: Run called twice")
	}
	s.started = true
	if s.broadcaster != nil {
		s.broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: s.client.CoreV1().Events("")})
		defer s.broadcaster.Shutdown()
	}
	s.informers.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), s.synced...) {
		return nil // ctx ended
	}
	if s.opts.lease != nil {
		return runElected(ctx, s.client, *s.opts.lease, s.schedule)
	}
	return s.schedule(ctx)
}

// schedule is the scheduling loop: one pod at a time, bindings async.
func (s *Scheduler) schedule(ctx context.Context) error {
	defer s.inFlight.Wait()
	defer s.queue.Close()
	go func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.queue.Flush()
			}
		}
	}()
	s.log.Info("scheduler started", "schedulerName", s.opts.name)
	for {
		qp, err := s.queue.Pop(ctx)
		if err != nil {
			return nil
		}
		s.scheduleOne(ctx, qp)
	}
}

// responsible reports pods this scheduler must place.
func (s *Scheduler) responsible(pod *corev1.Pod) bool {
	name := pod.Spec.SchedulerName
	if name == "" {
		name = DefaultSchedulerName
	}
	return name == s.opts.name && pod.Spec.NodeName == "" && pod.DeletionTimestamp == nil &&
		pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed
}

// priorityOf is spec.priority, else the value of priorityClassName, else
// the global default class. The API server does not fill spec.priority
// from the class yet, so the scheduler resolves it itself.
func (s *Scheduler) priorityOf(pod *corev1.Pod) int32 {
	if pod.Spec.Priority != nil {
		return *pod.Spec.Priority
	}
	if name := pod.Spec.PriorityClassName; name != "" {
		if pc, err := s.priorityClasses.Get(name); err == nil {
			return pc.Value
		}
		return 0
	}
	classes, err := s.priorityClasses.List(labels.Everything())
	if err != nil {
		return 0
	}
	for _, pc := range classes {
		if pc.GlobalDefault {
			return pc.Value
		}
	}
	return 0
}

func podFrom(obj any) *corev1.Pod {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	p, _ := obj.(*corev1.Pod)
	return p
}

func (s *Scheduler) onPodAdd(obj any) {
	pod := podFrom(obj)
	if pod == nil {
		return
	}
	if pod.Spec.NodeName != "" {
		s.snap.AddPod(pod)
		return
	}
	if s.responsible(pod) && !s.snap.IsAssumed(podKey(pod)) {
		s.queue.Add(pod)
	}
}

func (s *Scheduler) onPodUpdate(oldObj, newObj any) {
	old, pod := podFrom(oldObj), podFrom(newObj)
	if pod == nil {
		return
	}
	if pod.Spec.NodeName != "" {
		s.snap.AddPod(pod)
		s.queue.Delete(pod)
		if old != nil && isTerminal(pod) && !isTerminal(old) {
			s.queue.MoveAllToActive()
		}
		return
	}
	switch {
	case s.responsible(pod):
		if !s.snap.IsAssumed(podKey(pod)) {
			s.queue.Update(pod)
		}
	default:
		s.queue.Delete(pod)
	}
}

func isTerminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

func (s *Scheduler) onPodDelete(obj any) {
	pod := podFrom(obj)
	if pod == nil {
		return
	}
	s.snap.RemovePod(pod)
	s.queue.Delete(pod)
	if pod.Spec.NodeName != "" {
		s.queue.MoveAllToActive()
	}
}

func nodeFrom(obj any) *corev1.Node {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	n, _ := obj.(*corev1.Node)
	return n
}

func (s *Scheduler) onNodeAdd(obj any) {
	if n := nodeFrom(obj); n != nil {
		s.snap.SetNode(n)
		s.queue.MoveAllToActive()
	}
}

func (s *Scheduler) onNodeUpdate(oldObj, newObj any) {
	old, n := nodeFrom(oldObj), nodeFrom(newObj)
	if n == nil {
		return
	}
	s.snap.SetNode(n)
	if old == nil || nodeSchedulingChanged(old, n) {
		s.queue.MoveAllToActive()
	}
}

// nodeSchedulingChanged ignores heartbeats: only what filters read counts.
func nodeSchedulingChanged(old, cur *corev1.Node) bool {
	return !equality.Semantic.DeepEqual(old.Labels, cur.Labels) ||
		!equality.Semantic.DeepEqual(old.Spec.Taints, cur.Spec.Taints) ||
		old.Spec.Unschedulable != cur.Spec.Unschedulable ||
		!equality.Semantic.DeepEqual(old.Status.Allocatable, cur.Status.Allocatable) ||
		len(old.Status.Images) != len(cur.Status.Images)
}

func (s *Scheduler) onNodeDelete(obj any) {
	if n := nodeFrom(obj); n != nil {
		s.snap.RemoveNode(n.Name)
	}
}

func (s *Scheduler) onNamespace(obj any, deleted bool) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	ns, ok := obj.(*corev1.Namespace)
	if !ok {
		return
	}
	if deleted {
		s.snap.RemoveNamespace(ns.Name)
		return
	}
	s.snap.SetNamespace(ns)
}

func (s *Scheduler) wakeOnChange() cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { s.queue.MoveAllToActive() },
		UpdateFunc: func(_, _ any) { s.queue.MoveAllToActive() },
	}
}

// informerVolumes reads volume objects from informer listers.
type informerVolumes struct {
	claims  corelisters.PersistentVolumeClaimLister
	volumes corelisters.PersistentVolumeLister
	classes storagelisters.StorageClassLister
}

func (v informerVolumes) Claim(ns, name string) (*corev1.PersistentVolumeClaim, error) {
	return v.claims.PersistentVolumeClaims(ns).Get(name)
}

func (v informerVolumes) Volume(name string) (*corev1.PersistentVolume, error) {
	return v.volumes.Get(name)
}

func (v informerVolumes) Class(name string) (*storagev1.StorageClass, error) {
	return v.classes.Get(name)
}
