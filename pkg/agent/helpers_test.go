package agent

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"

	"github.com/tugcluster/tug/pkg/agent/runtime"
	fakert "github.com/tugcluster/tug/pkg/agent/runtime/fake"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type harness struct {
	t      *testing.T
	client *fake.Clientset
	rt     *fakert.Runtime
	agent  *Agent
	clock  *clock
	events *record.FakeRecorder
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessWith(t, nil, nil)
}

// newHarnessWith builds a harness whose runtime wrap may wrap (to add
// or script optional abilities) and whose options mod may change.
func newHarnessWith(t *testing.T, wrap func(*fakert.Runtime) runtime.Runtime, mod func(*Options)) *harness {
	t.Helper()
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	rt, err := fakert.New(fakert.Options{PodCIDR: netip.MustParsePrefix("10.42.3.0/24"), Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	client := fake.NewClientset()
	rec := record.NewFakeRecorder(1000)
	opts := Options{
		NodeName: "node-a", PodCIDR: "10.42.3.0/24", Now: clk.now, Recorder: rec,
		Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.0.2.10"}},
	}
	if mod != nil {
		mod(&opts)
	}
	var r runtime.Runtime = rt
	if wrap != nil {
		r = wrap(rt)
	}
	a, err := New(client, r, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.probeMgr.Close)
	return &harness{t: t, client: client, rt: rt, agent: a, clock: clk, events: rec}
}

var uidSeq int

func testPod(name string, containers ...corev1.Container) *corev1.Pod {
	uidSeq++
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID(name + "-uid-" + string(rune('a'+uidSeq%26)))},
		Spec:       corev1.PodSpec{NodeName: "node-a", Containers: containers, RestartPolicy: corev1.RestartPolicyAlways},
	}
}

func ctr(name, image string) corev1.Container {
	return corev1.Container{Name: name, Image: image, ImagePullPolicy: corev1.PullIfNotPresent}
}

// create stores the pod in the API and hands it to the agent.
func (h *harness) create(pod *corev1.Pod) {
	h.t.Helper()
	if _, err := h.client.CoreV1().Pods(pod.Namespace).Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		h.t.Fatal(err)
	}
	h.agent.podChanged(h.get(pod.Name))
}

func (h *harness) get(name string) *corev1.Pod {
	h.t.Helper()
	p, err := h.client.CoreV1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// sync feeds the API's current pod to the agent (as the informer would)
// and runs one sync; it returns the requeue delay.
func (h *harness) sync(name string) time.Duration {
	h.t.Helper()
	p, err := h.client.CoreV1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
	if err == nil {
		h.agent.podChanged(p)
	}
	d, err := h.agent.sync(context.Background(), "default/"+name)
	if err != nil {
		h.t.Fatalf("sync %s: %v", name, err)
	}
	return d
}

func (h *harness) drainEvents() []string {
	var out []string
	for {
		select {
		case e := <-h.events.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func condition(pod *corev1.Pod, t corev1.PodConditionType) corev1.ConditionStatus {
	for _, c := range pod.Status.Conditions {
		if c.Type == t {
			return c.Status
		}
	}
	return ""
}
