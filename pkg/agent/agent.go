package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
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
	synced    bool              // the pod source has delivered its initial list
	images    map[string]string // image ref → image ID of pulled images

	node   nodeState
	ready  chan struct{}
	hostIP string

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
		images:    map[string]string{},
		ready:     make(chan struct{}),
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
	if _, err := inf.AddEventHandler(podHandler(func(string) *Agent { return a })); err != nil {
		return fmt.Errorf("pod informer: %w", err)
	}
	factory.Start(ctx.Done())
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-ctx.Done()
		factory.Shutdown()
	}()
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
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
		UpdateFunc: func(_, obj any) {
			if pod, ok := obj.(*corev1.Pod); ok {
				if a := agentFor(pod.Spec.NodeName); a != nil && pod.Spec.NodeName == a.opts.NodeName {
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

// orphanVolumesKey queues the removal of volumes no pod owns; it cannot
// collide with a pod key (namespace/name) or an orphan key.
const orphanVolumesKey = "volumes:orphans"

// podChanged records the newest version of a pod and queues it. The pod
// is the informer's object: it is read, never modified.
func (a *Agent) podChanged(pod *corev1.Pod) {
	key := podKey(pod)
	a.mu.Lock()
	st := a.pods[key]
	if st != nil && st.uid != pod.UID {
		// Same name, new pod: the old one must be torn down first; its
		// state stays until that is done (see syncPod).
		st.replacement = pod
	} else if st == nil {
		a.pods[key] = newPodState(pod)
	} else {
		st.pod = pod
	}
	a.mu.Unlock()
	a.queue.Add(key)
}

func (a *Agent) podDeleted(pod *corev1.Pod) {
	key := podKey(pod)
	a.mu.Lock()
	if st := a.pods[key]; st != nil && st.uid == pod.UID {
		st.gone = true
	}
	a.mu.Unlock()
	a.queue.Add(key)
}

// podsSynced is called once the pod source delivered its first list:
// sandboxes of pods no longer bound here can then be removed.
func (a *Agent) podsSynced() {
	a.mu.Lock()
	a.synced = true
	var stale []string
	for uid := range a.orphans {
		stale = append(stale, uid)
	}
	a.mu.Unlock()
	for _, uid := range stale {
		a.queue.Add("orphan/" + uid)
	}
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

// resyncAll queues every pod, the safety net behind exit notifications.
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
	if a.opts.Volumes != nil {
		a.queue.Add(orphanVolumesKey)
	}
}
