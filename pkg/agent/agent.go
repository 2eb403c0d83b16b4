package agent

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"github.com/tugcluster/tug/pkg/agent/probes"
	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// Agent runs one node. Create it with New and start it with Run.
type Agent struct {
	client kubernetes.Interface
	rt     runtime.Runtime
	opts   Options
	now    func() time.Time
	rec    record.EventRecorder
	queue  workqueue.TypedDelayingInterface[string]

	mu        sync.Mutex
	pods      map[string]*podState // by namespace/name
	sandboxes map[string]string    // sandbox ID → pod key, for exit notifications
	orphans   map[string]runtime.Sandbox
	// deleted holds the UIDs of pods seen with a deletionTimestamp or
	// reported gone, and when: nothing is ever created for them again,
	// whatever stale event or queued sync comes later.
	deleted map[types.UID]time.Time
	synced  bool              // the pod source has delivered its initial list
	images  map[string]string // image ref → image ID of pulled images

	node   nodeState
	ready  chan struct{}
	hostIP string
	// checkStatus asks the heartbeat loop for a status check now.
	checkStatus chan struct{}
	// idPrefix caches containerIDPrefix (a string once known).
	idPrefix atomic.Value

	prober   *probes.Prober
	probeMgr *probes.Manager
}

// New returns an agent for one node; nothing runs until Run.
func New(client kubernetes.Interface, rt runtime.Runtime, opts Options) (*Agent, error) {
	if opts.NodeName == "" {
		return nil, errors.New("agent: node name is required")
	}
	if client == nil || rt == nil {
		return nil, errors.New("agent: client and runtime are required")
	}
	opts.setDefaults()
	a := &Agent{
		client: client, rt: rt, opts: opts, now: opts.Now, rec: opts.Recorder,
		queue:     workqueue.NewTypedDelayingQueueWithConfig(workqueue.TypedDelayingQueueConfig[string]{}),
		pods:      map[string]*podState{},
		sandboxes: map[string]string{},
		deleted:   map[types.UID]time.Time{},
		images:    map[string]string{},
		ready:     make(chan struct{}),

		checkStatus: make(chan struct{}, 1),
	}
	for _, addr := range opts.Addresses {
		if addr.Type == corev1.NodeInternalIP {
			a.hostIP = addr.Address
			break
		}
	}
	a.prober = newProber(rt, opts)
	a.probeMgr = probes.NewManager(probes.ManagerOptions{
		Prober:  a.prober,
		Clock:   opts.ProbeClock,
		Changed: func(key string) { a.queue.Add(key) },
		Event: func(pod *corev1.Pod, container, eventType, reason, msg string) {
			a.event(pod, container, eventType, reason, "%s", msg)
		},
	})
	return a, nil
}

// NodeName is the name of the agent's node.
func (a *Agent) NodeName() string { return a.opts.NodeName }

// Ready is closed once the Node is registered and pods are being run.
func (a *Agent) Ready() <-chan struct{} { return a.ready }

// Run registers the node, then renews its Lease, reports its status and
// runs its pods until ctx ends. It returns nil when ctx ends.
func (a *Agent) Run(ctx context.Context) error {
	defer a.queue.ShutDown()
	defer a.probeMgr.Close()
	if a.rec == nil {
		b := record.NewBroadcaster(record.WithContext(ctx))
		b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: a.client.CoreV1().Events("")})
		defer b.Shutdown()
		a.rec = b.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "kubelet", Host: a.opts.NodeName})
	}
	if err := a.adopt(ctx); err != nil {
		return err
	}
	if n, ok := a.rt.(runtime.ExitNotifier); ok {
		n.NotifyExits(a.containerExited)
	}
	if err := a.registerWithRetry(ctx); err != nil {
		return err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	if !a.opts.externalPods {
		if err := a.startInformer(ctx, &wg); err != nil {
			return err
		}
	}
	for i := 0; i < a.opts.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a.processNext(ctx) {
			}
		}()
	}
	close(a.ready)
	a.heartbeat(ctx)
	a.queue.ShutDown()
	return nil
}

// startInformer watches the pods bound to this node.
func (a *Agent) startInformer(ctx context.Context, wg *sync.WaitGroup) error {
	selector := fields.OneTermEqualSelector("spec.nodeName", a.opts.NodeName).String()
	factory := informers.NewSharedInformerFactoryWithOptions(a.client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = selector }))
	inf := factory.Core().V1().Pods().Informer()
	reg, err := inf.AddEventHandler(podHandler(func(string) *Agent { return a }))
	if err != nil {
		return fmt.Errorf("pod informer: %w", err)
	}
	factory.Start(ctx.Done())
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-ctx.Done()
		factory.Shutdown()
	}()
	// The handler's own HasSynced: every pod of the first list has
	// reached podChanged, so no sandbox a pod will adopt looks orphaned.
	if !cache.WaitForCacheSync(ctx.Done(), reg.HasSynced) {
		return nil
	}
	a.podsSynced()
	return nil
}

// podHandler dispatches informer events to the agent of the pod's node.
func podHandler(agentFor func(node string) *Agent) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if pod, ok := obj.(*corev1.Pod); ok {
				if a := agentFor(pod.Spec.NodeName); a != nil && pod.Spec.NodeName == a.opts.NodeName {
					a.podChanged(pod)
				}
			}
		},
		UpdateFunc: func(oldObj, obj any) {
			if pod, ok := obj.(*corev1.Pod); ok {
				if a := agentFor(pod.Spec.NodeName); a != nil && pod.Spec.NodeName == a.opts.NodeName {
					if old, ok := oldObj.(*corev1.Pod); ok && a.ownStatusEcho(old, pod) {
						return
					}
					a.podChanged(pod)
				}
			}
		},
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if pod, ok := obj.(*corev1.Pod); ok {
				if a := agentFor(pod.Spec.NodeName); a != nil {
					a.podDeleted(pod)
				}
			}
		},
	}
}

func podKey(pod *corev1.Pod) string { return pod.Namespace + "/" + pod.Name }

// orphanVolumesKey queues the removal of volumes no pod owns, and
// orphanSandboxesKey that of sandboxes no pod owns; neither can collide
// with a pod key (namespace/name).
const (
	orphanVolumesKey   = "volumes:orphans"
	orphanSandboxesKey = "sandboxes:orphans"
)

// podChanged records the newest version of a pod and queues it. The pod
// is the informer's object: it is read, never modified.
func (a *Agent) podChanged(pod *corev1.Pod) {
	key := podKey(pod)
	a.mu.Lock()
	if pod.DeletionTimestamp != nil {
		a.markDeletedLocked(pod.UID)
	}
	_, dead := a.deleted[pod.UID]
	st := a.pods[key]
	switch {
	case st != nil && st.uid != pod.UID:
		// Same name, new pod: the old one must be torn down first; its
		// state stays until that is done (see finishDeletion).
		st.replacement = pod
	case st == nil && dead && pod.DeletionTimestamp == nil:
		// A stale object of a pod already deleted: it must not start
		// again.
		a.mu.Unlock()
		a.opts.Logger.Debug("ignore stale pod object of a deleted pod", "node", a.opts.NodeName, "pod", key, "uid", pod.UID, "resourceVersion", pod.ResourceVersion)
		return
	case st == nil:
		st = newPodState(pod)
		st.deleting = dead
		a.pods[key] = st
	default:
		// Never trade an object with a deletionTimestamp for an older
		// one without.
		if pod.DeletionTimestamp != nil || st.pod.DeletionTimestamp == nil {
			st.pod = pod
		}
		st.deleting = st.deleting || dead
	}
	a.mu.Unlock()
	a.queue.Add(key)
}

// ownStatusEcho takes in pod without a sync when the update is only this
// agent's own status write coming back: nothing the pod asks for changed,
// so syncing again would only re-read the runtime (and, in a burst of pod
// starts, delay pods not yet started). Status changes by anyone else, and
// pods with readiness gates (others' conditions decide Ready), still sync.
func (a *Agent) ownStatusEcho(old, pod *corev1.Pod) bool {
	if old.UID != pod.UID || pod.DeletionTimestamp != nil || old.DeletionTimestamp != nil ||
		len(pod.Spec.ReadinessGates) > 0 {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	// The cheap test first: most updates are not this agent's own write.
	st := a.pods[podKey(pod)]
	if st == nil || st.uid != pod.UID || st.deleting || st.replacement != nil || st.writtenResultRV != pod.ResourceVersion {
		return false
	}
	if !maps.Equal(old.Labels, pod.Labels) || !maps.Equal(old.Annotations, pod.Annotations) ||
		!apiequality.Semantic.DeepEqual(&old.Spec, &pod.Spec) {
		return false
	}
	st.pod = pod
	return true
}

func (a *Agent) podDeleted(pod *corev1.Pod) {
	key := podKey(pod)
	a.mu.Lock()
	a.markDeletedLocked(pod.UID)
	st := a.pods[key]
	switch {
	case st != nil && st.uid == pod.UID:
		st.gone, st.deleting = true, true
	case st != nil && st.replacement != nil && st.replacement.UID == pod.UID:
		st.replacement = nil // gone before it ever ran here
	}
	synced := a.synced
	a.mu.Unlock()
	a.queue.Add(key)
	if st == nil && synced {
		a.queue.Add(orphanSandboxesKey) // anything left for it goes
	}
}

// markDeletedLocked remembers a deleted pod's UID. Callers hold mu.
func (a *Agent) markDeletedLocked(uid types.UID) {
	if _, ok := a.deleted[uid]; !ok {
		a.deleted[uid] = a.now()
	}
}

// deletedRetention is how long a deleted pod's UID is remembered after
// its state is gone: far longer than any event about it stays in flight.
const deletedRetention = 10 * time.Minute

// forgetDeleted drops remembered UIDs of pods long gone.
func (a *Agent) forgetDeleted() {
	a.mu.Lock()
	defer a.mu.Unlock()
	live := map[types.UID]bool{}
	for _, st := range a.pods {
		live[st.uid] = true
	}
	now := a.now()
	for uid, at := range a.deleted {
		if !live[uid] && now.Sub(at) > deletedRetention {
			delete(a.deleted, uid)
		}
	}
}

// podsSynced is called once the pod source delivered its first list:
// sandboxes of pods no longer bound here can then be removed.
func (a *Agent) podsSynced() {
	a.mu.Lock()
	a.synced = true
	a.mu.Unlock()
	a.queue.Add(orphanSandboxesKey)
	if a.opts.Volumes != nil {
		a.queue.Add(orphanVolumesKey)
	}
}

func (a *Agent) containerExited(sandboxID, _ string) {
	a.mu.Lock()
	key, ok := a.sandboxes[sandboxID]
	a.mu.Unlock()
	if ok {
		a.queue.Add(key)
	}
}

func (a *Agent) processNext(ctx context.Context) bool {
	key, quit := a.queue.Get()
	if quit {
		return false
	}
	defer a.queue.Done(key)
	after, err := a.sync(ctx, key)
	if err != nil && ctx.Err() == nil {
		a.opts.Logger.Warn("sync pod", "node", a.opts.NodeName, "pod", key, "err", err)
		if after == 0 || after > time.Second {
			after = time.Second
		}
	}
	if after > 0 && ctx.Err() == nil {
		a.queue.AddAfter(key, after)
	}
	return true
}

// resyncAll queues every pod, the safety net behind exit notifications,
// and the removal of orphaned sandboxes and volumes.
func (a *Agent) resyncAll() {
	a.mu.Lock()
	keys := make([]string, 0, len(a.pods))
	for k := range a.pods {
		keys = append(keys, k)
	}
	a.mu.Unlock()
	for _, k := range keys {
		a.queue.Add(k)
	}
	a.forgetDeleted()
	a.queue.Add(orphanSandboxesKey)
	if a.opts.Volumes != nil {
		a.queue.Add(orphanVolumesKey)
	}
}
