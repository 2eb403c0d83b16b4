package integration

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/retry"
	utilptr "k8s.io/utils/ptr"

	"github.com/tugcluster/tug/pkg/controller"
	"github.com/tugcluster/tug/pkg/controller/nodelifecycle"
)

// startNodeLifecycle runs a node lifecycle controller with short periods
// that manages only the nodes labelled tug.test/nodelifecycle=owner, so
// other tests' nodes (which nobody keeps alive) are left alone. The
// manager's own instance uses the 40 s default and agrees with it on
// every taint, since taints follow from conditions.
func startNodeLifecycle(t *testing.T, owner string) {
	t.Helper()
	client := kubernetes.NewForConfigOrDie(cluster.config)
	factory := informers.NewSharedInformerFactory(client, 0)
	b := record.NewBroadcaster()
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	cc := &controller.Context{
		Client:    client,
		Informers: factory,
		Events: func(c string) record.EventRecorder {
			return b.NewRecorder(scheme.Scheme, corev1.EventSource{Component: c})
		},
		Now: time.Now,
		Log: componentLogger(),
	}
	c, err := nodelifecycle.NewWithConfig(nodelifecycle.Config{
		GracePeriod:      2 * time.Second,
		MonitorPeriod:    200 * time.Millisecond,
		OrphanQuarantine: 500 * time.Millisecond,
		PodGCPeriod:      300 * time.Millisecond,
		NodeSelector:     labels.SelectorFromSet(labels.Set{"tug.test/nodelifecycle": owner}),
	})(cc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Run(ctx, 2)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		factory.Shutdown()
		b.Shutdown()
	})
}

// liveNode creates a Ready node with a Lease and keeps both fresh while
// alive is true, as an agent would.
func liveNode(t *testing.T, name, owner string, alive *atomic.Bool) {
	t.Helper()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"tug.test/nodelifecycle": owner}}}
	if _, err := cluster.client.CoreV1().Nodes().Create(ctx(t), n, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create node %s: %v", name, err)
	}
	t.Cleanup(func() { _ = cluster.client.CoreV1().Nodes().Delete(context.Background(), name, metav1.DeleteOptions{}) })
	updateNodeStatus(t, name, func(n *corev1.Node) {
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
			LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}}
	})
	leases := cluster.client.CoordinationV1().Leases(nodelifecycle.LeaseNamespace)
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: utilptr.To(name), LeaseDurationSeconds: utilptr.To[int32](40), RenewTime: utilptr.To(metav1.NowMicro())}}
	if _, err := leases.Create(ctx(t), lease, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = leases.Delete(context.Background(), name, metav1.DeleteOptions{}) })
	stop := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(300 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if !alive.Load() {
				continue
			}
			if l, err := leases.Get(context.Background(), name, metav1.GetOptions{}); err == nil {
				l.Spec.RenewTime = utilptr.To(metav1.NowMicro())
				_, _ = leases.Update(context.Background(), l, metav1.UpdateOptions{})
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-finished })
}

// updateNodeStatus changes a node's status, retrying on conflicts with
// the controllers that write to it too.
func updateNodeStatus(t *testing.T, name string, mutate func(*corev1.Node)) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := cluster.client.CoreV1().Nodes().Get(ctx(t), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		mutate(n)
		_, err = cluster.client.CoreV1().Nodes().UpdateStatus(ctx(t), n, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("node %s status: %v", name, err)
	}
}

func getNode(t *testing.T, name string) *corev1.Node {
	t.Helper()
	n, err := cluster.client.CoreV1().Nodes().Get(ctx(t), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func taintKeys(n *corev1.Node) []string {
	var out []string
	for _, t := range n.Spec.Taints {
		out = append(out, t.Key+":"+string(t.Effect))
	}
	slices.Sort(out)
	return out
}

func nodeReady(n *corev1.Node) *corev1.NodeCondition {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == corev1.NodeReady {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}

func TestNodeLifecycleTaintsEvictsAndRecovers(t *testing.T) {
	ns := newNamespace(t)
	var deadAlive, otherAlive atomic.Bool
	deadAlive.Store(true)
	otherAlive.Store(true)
	dead, other := ns+"-dead", ns+"-alive"
	liveNode(t, dead, ns, &deadAlive)
	liveNode(t, other, ns, &otherAlive)
	startNodeLifecycle(t, ns)

	mkPod := func(name string, seconds *int64) {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: corev1.PodSpec{NodeName: dead, Containers: []corev1.Container{{Name: "c", Image: "busybox"}},
				Tolerations: []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists,
					Effect: corev1.TaintEffectNoExecute, TolerationSeconds: seconds}}},
		}
		created, err := cluster.client.CoreV1().Pods(ns).Create(ctx(t), p, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		created.Status.Phase = corev1.PodRunning
		created.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		if _, err := cluster.client.CoreV1().Pods(ns).UpdateStatus(ctx(t), created, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	mkPod("short", utilptr.To[int64](2))
	mkPod("forever", nil)

	// Still reporting after longer than the grace period: nothing happens.
	time.Sleep(2500 * time.Millisecond)
	if n := getNode(t, dead); nodeReady(n).Status != corev1.ConditionTrue || len(n.Spec.Taints) != 0 {
		t.Fatalf("live node touched: ready %+v taints %v", nodeReady(n), taintKeys(n))
	}

	deadAlive.Store(false)
	var tainted time.Time
	eventually(t, 15*time.Second, func() (bool, string) {
		n := getNode(t, dead)
		r := nodeReady(n)
		want := []string{corev1.TaintNodeUnreachable + ":NoExecute", corev1.TaintNodeUnreachable + ":NoSchedule"}
		ok := r.Status == corev1.ConditionUnknown && r.Reason == "NodeStatusUnknown" &&
			r.Message == "Kubelet stopped posting node status." && slices.Equal(taintKeys(n), want)
		return ok, fmt.Sprintf("ready %+v taints %v", r, taintKeys(n))
	})
	tainted = time.Now()

	pods := cluster.client.CoreV1().Pods(ns)
	eventually(t, 10*time.Second, func() (bool, string) {
		p, err := pods.Get(ctx(t), "short", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, ""
		}
		if err != nil {
			return false, err.Error()
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.DisruptionTarget && c.Reason == "DeletionByTaintManager" && p.DeletionTimestamp != nil {
				return true, ""
			}
		}
		return false, fmt.Sprintf("short pod: deletion %v conditions %+v", p.DeletionTimestamp, p.Status.Conditions)
	})
	if d := time.Since(tainted); d < 500*time.Millisecond {
		t.Errorf("pod tolerating 2 s evicted %v after the taint", d)
	}
	time.Sleep(time.Second)
	p, err := pods.Get(ctx(t), "forever", metav1.GetOptions{})
	if err != nil || p.DeletionTimestamp != nil {
		t.Fatalf("pod tolerating forever evicted: %v %v", err, p.DeletionTimestamp)
	}
	if c := p.Status.Conditions[0]; c.Type != corev1.PodReady || c.Status != corev1.ConditionFalse {
		t.Errorf("pod on unreachable node still ready: %+v", p.Status.Conditions)
	}
	if n := getNode(t, other); len(n.Spec.Taints) != 0 {
		t.Errorf("reporting node tainted: %v", taintKeys(n))
	}

	// The agent comes back: it posts Ready and renews its Lease.
	updateNodeStatus(t, dead, func(n *corev1.Node) {
		for i := range n.Status.Conditions {
			c := &n.Status.Conditions[i]
			c.Status, c.Reason, c.LastHeartbeatTime = corev1.ConditionTrue, "KubeletReady", metav1.Now()
			if c.Type != corev1.NodeReady {
				c.Status = corev1.ConditionFalse
			}
		}
	})
	deadAlive.Store(true)
	eventually(t, 10*time.Second, func() (bool, string) {
		n := getNode(t, dead)
		return len(n.Spec.Taints) == 0, fmt.Sprintf("taints %v", taintKeys(n))
	})

	// The node goes away: its pods, terminating or not, are force-deleted.
	if err := cluster.client.CoreV1().Nodes().Delete(ctx(t), dead, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() (bool, string) {
		list, err := pods.List(ctx(t), metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		var names []string
		for _, p := range list.Items {
			names = append(names, p.Name)
		}
		return len(names) == 0, fmt.Sprintf("pods left: %v", names)
	})
}
